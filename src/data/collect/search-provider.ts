/**
 * Where image URLs come from. fastai's notebooks asked an image search engine; findstroke takes URL lists,
 * and a search service can be plugged in later behind the same interface.
 */
import { CollectError } from './errors.js';
import { readUrlLists, type ClassUrls } from './url-lists.js';

/** A source of image URLs. `collect` asks it once per class, with the class name as the query. */
export interface SearchProvider {
  /** Up to `max` image URLs for `query`, best first. */
  search(query: string, max: number): Promise<string[]>;
}

/** A {@link SearchProvider} answering from URL lists: the query is a class name, the answer its listed URLs. */
export class UrlListProvider implements SearchProvider {
  /** The classes that have a list, sorted. */
  readonly classes: string[];
  private readonly urlsByClass: Map<string, string[]>;

  /** @param source where the lists came from, named in errors. */
  constructor(
    lists: readonly ClassUrls[],
    private readonly source: string,
  ) {
    this.urlsByClass = new Map(lists.map((list) => [list.className, list.urls]));
    this.classes = [...this.urlsByClass.keys()].sort();
  }

  /** Reads the lists at `path` (see {@link readUrlLists}). */
  static async fromPath(path: string): Promise<UrlListProvider> {
    return new UrlListProvider(await readUrlLists(path), path);
  }

  async search(query: string, max: number): Promise<string[]> {
    const urls = this.urlsByClass.get(query);
    if (!urls) throw new CollectError(this.source, `no URL list for class '${query}'`);
    return urls.slice(0, max);
  }
}
