/** Which resource types the browser engine aborts (src/engines/browser-resources.ts). Pure. */
import { describe, expect, it } from 'vitest';
import { blockedResources } from '../../src/engines/browser-resources';

const sorted = (set: ReadonlySet<string>) => [...set].sort();
const opts = (browserParams: Record<string, unknown> = {}, crawlerParams: Record<string, unknown> = {}) => ({
  browserParams,
  crawlerParams,
});

describe('blockedResources', () => {
  it('blocks images, media and fonts for text outputs by default', () => {
    expect(sorted(blockedResources(opts(), false))).toEqual(['font', 'image', 'media']);
  });

  it('blocks nothing for screenshots, PDFs and scripts by default', () => {
    expect(sorted(blockedResources(opts(), true))).toEqual([]);
  });

  it('loads everything when text_mode is false (Crawl4AI default browser)', () => {
    expect(sorted(blockedResources(opts({ text_mode: false }), false))).toEqual([]);
  });

  it('blocks heavy resources on every route when text_mode is true', () => {
    expect(sorted(blockedResources(opts({ text_mode: true }), true))).toEqual(['font', 'image', 'media']);
    expect(sorted(blockedResources(opts({ text_mode: true }, { screenshot: true }), false))).toEqual(['font', 'image', 'media']);
  });

  it('keeps pictures when the crawl asks for a screenshot, a PDF or wait_for_images', () => {
    for (const flag of ['screenshot', 'pdf', 'wait_for_images'])
      expect(sorted(blockedResources(opts({}, { [flag]: true }), false))).toEqual([]);
  });

  it('adds stylesheets with avoid_css, and ignores non-boolean values', () => {
    expect(sorted(blockedResources(opts({ avoid_css: true }), false))).toEqual(['font', 'image', 'media', 'stylesheet']);
    expect(sorted(blockedResources(opts({ avoid_css: true }), true))).toEqual(['stylesheet']);
    expect(sorted(blockedResources(opts({ avoid_css: 'yes', text_mode: 'false' }), false))).toEqual(['font', 'image', 'media']);
  });
});
