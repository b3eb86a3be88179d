/**
 * An append-only string builder for the page pipeline's outputs (`cleaned_html`, `fit_html`,
 * markdown). Pieces are joined every `CHUNK` appends into one flat string, so what stays alive
 * until the end is a few flat chunks — not one array slot or rope cell per tiny piece (`<`, a tag
 * name, one character of text), which the garbage collector would otherwise copy around for the
 * whole page.
 */
const CHUNK = 1024;

export class TextSink {
  readonly #pieces: string[] = new Array<string>(CHUNK).fill('');
  #count = 0;
  readonly #chunks: string[] = [];

  add(piece: string): void {
    this.#pieces[this.#count++] = piece;
    if (this.#count === CHUNK) {
      this.#chunks.push(this.#pieces.join(''));
      this.#count = 0;
    }
  }

  toString(): string {
    if (this.#count > 0) {
      this.#chunks.push(this.#pieces.slice(0, this.#count).join(''));
      this.#count = 0;
    }
    if (this.#chunks.length > 1) this.#chunks.splice(0, this.#chunks.length, this.#chunks.join(''));
    return this.#chunks[0] ?? '';
  }
}
