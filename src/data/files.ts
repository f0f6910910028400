/** Which files are images, and finding them under a folder. */
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DataFileError } from './errors.js';

/** Extensions read by default, lower case: photos through sharp, `.dcm` through the DICOM reader. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.dcm'];

/**
 * True when `path` is read as DICOM: `.dcm`, no extension, or an all-digit "extension", since PACS
 * exports name files by instance number or UID (`17106`, `1.2.840.113619.2.55.3`).
 */
export function isDicomPath(path: string): boolean {
  const extension = extname(path).toLowerCase();
  return extension === '.dcm' || extension === '' || /^\.\d+$/.test(extension);
}

/** True when `path` has one of `extensions` (case-insensitive). */
export function hasImageExtension(path: string, extensions: readonly string[] = IMAGE_EXTENSIONS): boolean {
  return extensions.includes(extname(path).toLowerCase());
}

/**
 * Every image under `folder`, recursively, sorted, hidden entries skipped. Files with one of
 * `extensions` count; when `.dcm` is among them, so do extension-less files that carry the DICOM
 * preamble ("DICM" at byte 128).
 * @throws {@link DataFileError} when `folder` is missing or not a folder.
 */
export async function listImageFiles(folder: string, extensions: readonly string[] = IMAGE_EXTENSIONS): Promise<string[]> {
  await requireFolder(folder);
  const wanted = extensions.map((extension) => extension.toLowerCase());
  const files = await walk(folder);
  const sniffDicom = wanted.includes('.dcm');
  const images: string[] = [];
  for (const file of files) {
    if (hasImageExtension(file, wanted) || (sniffDicom && isDicomPath(file) && (await hasDicomPreamble(file)))) images.push(file);
  }
  return images.sort();
}

/** @throws {@link DataFileError} unless `path` is an existing folder. */
async function requireFolder(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new DataFileError(path, 'folder does not exist');
  if (!info.isDirectory()) throw new DataFileError(path, 'is not a folder');
}

/** The non-hidden subfolders of `folder`, by name, sorted. */
export async function subfolders(folder: string): Promise<string[]> {
  await requireFolder(folder);
  const entries = await readdir(folder, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.name.startsWith('.') && (await isFolder(join(folder, entry.name)))) names.push(entry.name);
  }
  return names.sort();
}

async function walk(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => !entry.name.startsWith('.'))
      .map(async (entry) => {
        const path = join(folder, entry.name);
        // Symbolic links are followed: datasets are often assembled from links into a shared store.
        const folderEntry = entry.isDirectory() || (entry.isSymbolicLink() && (await isFolder(path)));
        return folderEntry ? walk(path) : [path];
      }),
  );
  return nested.flat();
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function hasDicomPreamble(path: string): Promise<boolean> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return false;
  try {
    const magic = Buffer.alloc(4);
    const { bytesRead } = await file.read(magic, 0, 4, 128);
    return bytesRead === 4 && magic.toString('latin1') === 'DICM';
  } finally {
    await file.close();
  }
}
