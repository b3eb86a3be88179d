/**
 * Crawl4AI's `markdown_with_citations` + `references_markdown`: every markdown link or image
 * becomes `text⟨n⟩` (`![alt⟨n⟩]` for images), numbered once per distinct URL, and the references
 * list `⟨n⟩ url: title - text` follows under "## References" (as Crawl4AI's
 * DefaultMarkdownGenerator.convert_links_to_citations does). Pure.
 */
const LINK_RE = /!?\[((?:\\.|[^\]\\])+)\]\((<[^>]*>|[^)\s]+)(?:\s+"([^"]*)")?\)/g;

export interface Citations {
  markdownWithCitations: string;
  referencesMarkdown: string;
}

/** Rewrites links as numbered citations and builds the references list. */
export function toCitations(markdown: string): Citations {
  const refs = new Map<string, { n: number; desc: string }>();
  const text = markdown.replace(LINK_RE, (whole: string, rawText: string, rawUrl: string, title: string | undefined) => {
    const url = rawUrl.startsWith('<') ? rawUrl.slice(1, -1) : rawUrl;
    const label = rawText.replace(/\\([[\]])/g, '$1');
    let ref = refs.get(url);
    if (!ref) {
      const parts = [title, label !== title ? label : undefined].filter((p): p is string => Boolean(p));
      ref = { n: refs.size + 1, desc: parts.length ? `: ${parts.join(' - ')}` : '' };
      refs.set(url, ref);
    }
    return whole.startsWith('!') ? `![${label}⟨${ref.n}⟩]` : `${label}⟨${ref.n}⟩`;
  });
  const lines = [...refs.entries()].map(([url, { n, desc }]) => `⟨${n}⟩ ${url}${desc}\n`);
  return { markdownWithCitations: text, referencesMarkdown: `\n\n## References\n\n${lines.join('')}` };
}
