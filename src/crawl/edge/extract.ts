/**
 * One streaming pass of `HTMLRewriter` over a page: title and metadata (description, keywords,
 * author, `og:*`, `twitter:*`, …), links split internal/external (absolute, fragment-less,
 * deduplicated), media (images, videos, audios) and the cleaned HTML (scripts, styles, frames,
 * embedded objects, comments, inline event handlers and `javascript:` URLs removed).
 */
import type { LinkItem, MediaItem } from '../types';
import { resolveUrl } from './markdown/html-to-markdown';
import { PAGE_LIMITS, type PageNotes } from './markdown/limits';

export interface Extracted {
  title: string | null;
  metadata: Record<string, string | null>;
  links: { internal: LinkItem[]; external: LinkItem[] };
  media: { images: MediaItem[]; videos: MediaItem[]; audios: MediaItem[] };
  cleanedHtml: string;
  /** The URL relative references resolve against (the page URL or its `<base href>`). */
  baseUrl: string;
}

const REMOVED = 'script, style, iframe, frame, frameset, noscript, object, embed, template, link, base, applet';
const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'srcset', 'poster', 'xlink:href'];

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

/**
 * Extracts everything but markdown from a page's HTML: one streaming HTMLRewriter pass (linear),
 * with the link, media, metadata and text-field caps of `PAGE_LIMITS` (reported to `notes`).
 */
export async function extractPage(html: string, pageUrl: string, notes?: PageNotes): Promise<Extracted> {
  const page = new URL(pageUrl);
  let base = page;
  let title = '';
  let inTitle = false;
  let titleDone = false;
  // no prototype: a <meta name="__proto__"> is just a key
  const metadata = Object.create(null) as Record<string, string | null>;
  const seenLinks = new Set<string>();
  const internal: LinkItem[] = [];
  const external: LinkItem[] = [];
  const images: MediaItem[] = [];
  const videos: MediaItem[] = [];
  const audios: MediaItem[] = [];
  const seenMedia = new Set<string>();
  let currentLink: LinkItem | null = null;

  let metadataCount = 0;
  const addMedia = (list: MediaItem[], type: string, raw: string | null, alt?: string | null) => {
    if (seenMedia.size >= PAGE_LIMITS.maxMedia) {
      notes?.note('media_capped', `media past the first ${PAGE_LIMITS.maxMedia} were not listed`);
      return;
    }
    if (raw && raw.length > PAGE_LIMITS.maxAttributeChars) return;
    const src = resolveUrl(raw ?? undefined, base);
    if (!src || src.startsWith('data:') || seenMedia.has(`${type} ${src}`)) return;
    seenMedia.add(`${type} ${src}`);
    list.push(alt ? { src, alt: capped(alt, notes, 'alt texts'), type } : { src, type });
  };

  const rewriter = new HTMLRewriter()
    .on('base[href]', {
      element(el) {
        const href = resolveUrl(el.getAttribute('href') ?? undefined, page);
        if (href && base === page) base = new URL(href);
      },
    })
    .on('title', {
      element(el) {
        if (titleDone) return;
        inTitle = true;
        el.onEndTag(() => {
          inTitle = false;
          titleDone = true;
        });
      },
      text(chunk) {
        if (inTitle && title.length <= PAGE_LIMITS.maxTextField) title += chunk.text;
      },
    })
    .on('meta', {
      element(el) {
        const key = (el.getAttribute('name') ?? el.getAttribute('property') ?? '').trim().toLowerCase().slice(0, 256);
        const content = el.getAttribute('content');
        if (key && content !== null && !Object.hasOwn(metadata, key)) {
          if (metadataCount >= PAGE_LIMITS.maxMetadata) {
            notes?.note('metadata_capped', `<meta> entries past the first ${PAGE_LIMITS.maxMetadata} were not read`);
            return;
          }
          metadataCount++;
          metadata[key] = capped(content.trim(), notes, 'metadata values');
        }
        const charset = el.getAttribute('charset');
        if (charset && !Object.hasOwn(metadata, 'charset')) metadata.charset = charset.slice(0, 64);
      },
    })
    .on('a[href]', {
      element(el) {
        const raw = el.getAttribute('href') ?? '';
        if (raw.length > PAGE_LIMITS.maxAttributeChars) return;
        const href = resolveUrl(raw, base);
        if (!href || !/^https?:/i.test(href)) return;
        const clean = href.split('#')[0]!;
        if (seenLinks.has(clean)) return;
        if (seenLinks.size >= PAGE_LIMITS.maxLinks) {
          notes?.note('links_capped', `links past the first ${PAGE_LIMITS.maxLinks} were not listed`);
          return;
        }
        seenLinks.add(clean);
        const item: LinkItem = { href: clean, text: '' };
        const linkTitle = el.getAttribute('title');
        if (linkTitle) item.title = capped(linkTitle, notes, 'link titles');
        (isInternal(clean, page) ? internal : external).push(item);
        currentLink = item;
        el.onEndTag(() => {
          item.text = capped(item.text.replace(/\s+/g, ' ').trim(), notes, 'link texts');
          currentLink = null;
        });
      },
      text(chunk) {
        // an unclosed <a> would otherwise collect the rest of the page
        if (currentLink && currentLink.text.length <= PAGE_LIMITS.maxTextField * 2) currentLink.text += chunk.text;
      },
    })
    .on('img', {
      element(el) {
        addMedia(images, 'image', el.getAttribute('src') ?? el.getAttribute('data-src'), el.getAttribute('alt'));
      },
    })
    .on('video[src], video source[src]', {
      element(el) {
        addMedia(videos, 'video', el.getAttribute('src'));
      },
    })
    .on('audio[src], audio source[src]', {
      element(el) {
        addMedia(audios, 'audio', el.getAttribute('src'));
      },
    })
    .on(REMOVED, {
      element(el) {
        el.remove();
      },
    })
    .on('*', {
      element(el) {
        for (const [name = '', value = ''] of [...el.attributes]) {
          const lower = name.toLowerCase();
          if (lower.startsWith('on') || lower === 'style') el.removeAttribute(name);
          else if (URL_ATTRS.includes(lower) && /^\s*(javascript|vbscript):/i.test(value)) el.removeAttribute(name);
        }
      },
    })
    .onDocument({
      comments(comment) {
        comment.remove();
      },
    });

  const cleanedHtml = await rewriter.transform(new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } })).text();
  const cleanTitle = capped(title.replace(/\s+/g, ' ').trim(), notes, 'titles') || null;
  // a link never closed keeps its raw text: tidy it like a closed one
  for (const item of [...internal, ...external]) if (item.text.length > PAGE_LIMITS.maxTextField) item.text = capped(item.text.replace(/\s+/g, ' ').trim(), notes, 'link texts');
  return {
    title: cleanTitle,
    metadata: { title: cleanTitle, ...metadata },
    links: { internal, external },
    media: { images, videos, audios },
    cleanedHtml: cleanedHtml.trim(),
    baseUrl: base.href,
  };
}
