/** Checks on what users (or a search provider) hand to `collect`: URLs and class names. */

/** Why `text` is not an absolute http(s) URL, or undefined when it is one. */
export function httpUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: '${text}'`;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `not an http(s) URL: '${text}'`;
}

/**
 * Why `name` cannot be a class (it becomes a folder name), or undefined when it can. Dot-names are refused
 * because they would escape the output folder or hide among the temporary files.
 */
export function classNameProblem(name: string): string | undefined {
  if (name === '') return 'empty class name';
  if (name.startsWith('.')) return `class name '${name}' starts with a dot`;
  if (/[/\\\u0000-\u001f]/.test(name)) return `class name '${name}' contains a path separator or control character`;
  return undefined;
}
