/**
 * One walk over the parsed page: title and metadata (description, keywords, author, `og:*`,
 * `twitter:*`, …), links split internal/external (absolute, fragment-less, deduplicated), media
 * (images, videos, audios) and the cleaned tree (scripts, styles, frames, embedded objects,
 * comments, inline event handlers, `style` and `javascript:` URLs removed), serialised as
 * `cleaned_html`. It reads the tree of `parseHtml` — the same parse the markdown is made from —
 * rather than a second HTMLRewriter pass: lol-html stops with "memory limit exceeded" on deeply
 * nested pages, and one parse is cheaper than two. Linear; capped by `PAGE_LIMITS` (see `notes`).
 */
import type { LinkItem, MediaItem } from '../crawl/types';
import { resolveUrl, UrlResolver } from './markdown/url-resolver';
import { textContent, type ElementNode, type TreeNode } from './markdown/html-tree';
import { serializeHtml } from './markdown/html-serialize';
import { NO_ATTRIBUTES } from './markdown/html-lexer';
import { PAGE_LIMITS, type PageNotes } from './markdown/limits';

export interface Extracted {
  title: string | null;
  metadata: Record<string, string | null>;
  links: { internal: LinkItem[]; external: LinkItem[] };
  media: { images: MediaItem[]; videos: MediaItem[]; audios: MediaItem[] };
  /** The page without the removed elements and attributes (what `cleaned_html` serialises). */
  cleaned: ElementNode;
  cleanedHtml: string;
  /** The URL relative references resolve against (the page URL or its `<base href>`). */
  baseUrl: string;
}

const REMOVED = new Set([
  'script',
  'style',
  'iframe',
  'frame',
  'frameset',
  'noscript',
  'object',
  'embed',
  'template',
  'link',
  'base',
  'applet',
]);
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'srcset', 'poster', 'xlink:href']);
const SCRIPT_URL = /^\s*(javascript|vbscript):/i;

/** Hosts without `www.` are the same site when equal or one is a subdomain of the other. */
export function isInternal(href: string, page: URL): boolean {
  const host = new URL(href).hostname.replace(/^www\./, '');
  const pageHost = page.hostname.replace(/^www\./, '');
  return host === pageHost || host.endsWith(`.${pageHost}`);
}

function capped(text: string, notes: PageNotes | undefined, what: string): string {
  if (text.length <= PAGE_LIMITS.maxTextField) return text;
  notes?.note('text_field_truncated', `${what} longer than ${PAGE_LIMITS.maxTextField} characters were cut`);
  return text.slice(0, PAGE_LIMITS.maxTextField);
}

/** Whether the attribute is dropped from `cleaned_html` (event handlers, `style`, script URLs). */
function dropsAttr(name: string, value: string): boolean {
  if (name.startsWith('on') || name === 'style') return true;
  return URL_ATTRS.has(name) && SCRIPT_URL.test(value.slice(0, 64));
}

/** The attributes without the dropped ones: the same object when none is dropped (most elements). */
function cleanAttrs(attrs: Record<string, string>): Record<string, string> {
  if (attrs === NO_ATTRIBUTES) return attrs;
  let dropping = false;
  for (const name in attrs) {
    if (dropsAttr(name, attrs[name]!)) {
      dropping = true;
      break;
    }
  }
  if (!dropping) return attrs;
  const out = Object.create(null) as Record<string, string>;
  for (const name in attrs) {
    const value = attrs[name]!;
    if (!dropsAttr(name, value)) out[name] = value;
  }
  return out;
}

/** Extracts everything but markdown from a parsed page. */
export function extractPage(root: ElementNode, pageUrl: string, notes?: PageNotes): Extracted {
  const page = new URL(pageUrl);
  // a link under the page's own `scheme://host[:port]/` is internal without parsing it again
  const samePrefix = page.username === '' && page.password === '' ? `${page.protocol}//${page.host}/` : null;
  let base = page;
  let baseSet = false;
  let urls = new UrlResolver(base);
  let title: string | null = null;
  // no prototype: a <meta name="__proto__"> is just a key
  const metadata = Object.create(null) as Record<string, string | null>;
  let metadataCount = 0;
  const seenLinks = new Set<string>();
  const internal: LinkItem[] = [];
  const external: LinkItem[] = [];
  const images: MediaItem[] = [];
  const videos: MediaItem[] = [];
  const audios: MediaItem[] = [];
  const seenMedia = new Set<string>();

  const addMedia = (list: MediaItem[], type: string, raw: string | undefined, alt?: string) => {
    const src = urls.resolve(raw);
    if (!src || src.startsWith('data:') || seenMedia.has(`${type} ${src}`)) return;
    if (seenMedia.size >= PAGE_LIMITS.maxMedia) {
      notes?.note('media_capped', `media past the first ${PAGE_LIMITS.maxMedia} were not listed`);
      return;
    }
    seenMedia.add(`${type} ${src}`);
    list.push(alt ? { src, alt: capped(alt, notes, 'alt texts'), type } : { src, type });
  };

  const addLink = (el: ElementNode) => {
    const href = urls.resolve(el.attrs.href);
    if (!href || !/^https?:/i.test(href)) return;
    const hash = href.indexOf('#');
    const clean = hash === -1 ? href : href.slice(0, hash);
    if (seenLinks.has(clean)) return;
    if (seenLinks.size >= PAGE_LIMITS.maxLinks) {
      notes?.note('links_capped', `links past the first ${PAGE_LIMITS.maxLinks} were not listed`);
      return;
    }
    seenLinks.add(clean);
    const item: LinkItem = { href: clean, text: capped(textContent(el).replace(/\s+/g, ' ').trim(), notes, 'link texts') };
    if (el.attrs.title) item.title = capped(el.attrs.title, notes, 'link titles');
    (samePrefix !== null && clean.startsWith(samePrefix)) || isInternal(clean, page) ? internal.push(item) : external.push(item);
  };

  const visit = (el: ElementNode, inVideo: boolean, inAudio: boolean) => {
    switch (el.tag) {
      case 'base':
        if (!baseSet && el.attrs.href) {
          const href = resolveUrl(el.attrs.href, page);
          if (href) {
            base = new URL(href);
            baseSet = true;
            urls = new UrlResolver(base);
          }
        }
        break;
      case 'title':
        title ??= textContent(el);
        break;
      case 'meta': {
        const key = (el.attrs.name ?? el.attrs.property ?? '').trim().toLowerCase().slice(0, 256);
        const content = el.attrs.content;
        if (key && content !== undefined && !Object.hasOwn(metadata, key)) {
          if (metadataCount >= PAGE_LIMITS.maxMetadata)
            notes?.note('metadata_capped', `<meta> entries past the first ${PAGE_LIMITS.maxMetadata} were not read`);
          else {
            metadataCount++;
            metadata[key] = capped(content.trim(), notes, 'metadata values');
          }
        }
        if (el.attrs.charset && !Object.hasOwn(metadata, 'charset')) metadata.charset = el.attrs.charset.slice(0, 64);
        break;
      }
      case 'a':
        if (el.attrs.href !== undefined) addLink(el);
        break;
      case 'img':
        addMedia(images, 'image', el.attrs.src ?? el.attrs['data-src'], el.attrs.alt);
        break;
      case 'video':
      case 'audio':
      case 'source':
        if (el.attrs.src !== undefined) {
          if (el.tag === 'video' || (el.tag === 'source' && inVideo)) addMedia(videos, 'video', el.attrs.src);
          else if (el.tag === 'audio' || (el.tag === 'source' && inAudio)) addMedia(audios, 'audio', el.attrs.src);
        }
        break;
    }
  };

  /**
   * Visits a subtree and returns its cleaned form (null when the element is removed). Copy on
   * write: an element with nothing removed below it and no attribute dropped is returned as it is,
   * so a clean page is walked without allocating a second tree.
   */
  const walk = (el: ElementNode, inVideo: boolean, inAudio: boolean): ElementNode | null => {
    visit(el, inVideo, inAudio);
    if (REMOVED.has(el.tag)) return null;
    const video = inVideo || el.tag === 'video';
    const audio = inAudio || el.tag === 'audio';
    const kids = el.children;
    let copy: TreeNode[] | null = null;
    for (let i = 0; i < kids.length; i++) {
      const child = kids[i]!;
      const cleaned = child.type === 'text' ? child : walk(child, video, audio);
      if (cleaned === child) {
        if (copy) copy.push(child);
        continue;
      }
      copy ??= kids.slice(0, i);
      if (cleaned) copy.push(cleaned);
    }
    const attrs = el.tag === '#root' ? el.attrs : cleanAttrs(el.attrs);
    if (copy === null && attrs === el.attrs) return el;
    return { type: 'element', tag: el.tag, attrs, children: copy ?? kids };
  };

  const cleaned = walk(root, false, false)!;
  const cleanTitle = title === null ? null : capped((title as string).replace(/\s+/g, ' ').trim(), notes, 'titles') || null;
  return {
    title: cleanTitle,
    metadata: { title: cleanTitle, ...metadata },
    links: { internal, external },
    media: { images, videos, audios },
    cleaned,
    cleanedHtml: serializeHtml(cleaned).trim(),
    baseUrl: base.href,
  };
}
