/** A small RFC 4180 CSV reader: enough for manifests, with line numbers for error messages. */
import { DataFileError } from '../errors.js';

/** One record and the line it starts on (1-based; the header is line 1). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Splits CSV `text` into records: comma-separated fields, double-quoted fields that may hold commas,
 * line breaks and `""` for a quote; LF or CRLF line ends; a leading byte-order mark and blank lines
 * are skipped.
 * @throws {@link DataFileError} naming `source` and the line of an unterminated or misplaced quote.
 */
export function parseCsv(text: string, source: string): CsvRecord[] {
  return csvRecords(text, (line, reason) => new DataFileError(source, `line ${line}: ${reason}`));
}

/**
 * The fields of `row`, one line of a file that is read line by line (a list with comment lines between
 * its rows), quoted as {@link parseCsv} reads them.
 * @throws what `refuse` makes of the reason the row is malformed: the caller names the file and line.
 */
export function parseCsvRow(row: string, refuse: (reason: string) => Error): string[] {
  const records = csvRecords(row, (_line, reason) => refuse(reason));
  if (records.length > 1) throw refuse('a line break inside the row');
  return records[0]?.fields ?? [''];
}

/** {@link parseCsv}'s reader; `refuse` makes the error thrown for a malformed quote on `line`. */
function csvRecords(text: string, refuse: (line: number, reason: string) => Error): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  // Whether the current field was quoted: then only a comma or a line end may follow its closing quote.
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const endField = () => {
    fields.push(field);
    field = '';
    quoted = false;
  };
  const endRecord = () => {
    endField();
    if (fields.length > 1 || fields[0] !== '') records.push({ line: recordLine, fields });
    fields = [];
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const char = text[i];
    if (char === ',') {
      endField();
      i++;
    } else if (char === '\n' || char === '\r') {
      endRecord();
      i += char === '\r' && text[i + 1] === '\n' ? 2 : 1;
      recordLine = ++line;
    } else if (quoted) {
      throw refuse(line, 'text after the closing quote of a quoted field');
    } else if (char === '"') {
      if (field !== '') throw refuse(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      const openedOn = line;
      for (i++; text[i] !== '"' || text[i + 1] === '"'; i++) {
        if (i >= text.length) throw refuse(openedOn, 'quoted field is not closed');
        if (text[i] === '"') i++;
        else if (text[i] === '\n') line++;
        field += text[i];
      }
      quoted = true;
      i++;
    } else {
      field += char;
      i++;
    }
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return records;
}
