import { createRequire } from 'node:module';
import path from 'node:path';
import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * The text of a PDF as a reader sees it, for tests (vitest and Playwright e2e): parsed by PDF.js (pdfjs-dist, a dev dependency),
 * so a PDF that a real viewer cannot open fails here too. Each page's text items are put back into lines by their position
 * (top to bottom, left to right; items on one baseline joined by a space when there is a visible gap between them), pages
 * separated by a blank line.
 */
export interface PdfText {
  /** Number of pages. */
  pages: number;
  /** Every page's lines, pages separated by an empty line. */
  text: string;
  /** The text of each page (same line rules). */
  pageTexts: string[];
}

interface Item {
  str: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

type PdfJs = typeof PdfJsModule;
let pdfjs: Promise<PdfJs> | null = null;
let standardFontDataUrl: string | undefined;

function loadPdfJs(): Promise<PdfJs> {
  if (!pdfjs) {
    // The legacy build is the one meant for Node (no DOM, no canvas needed for text).
    pdfjs = import('pdfjs-dist/legacy/build/pdf.mjs');
    try {
      const require = createRequire(import.meta.url);
      standardFontDataUrl = path.join(path.dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts') + path.sep;
    } catch {
      standardFontDataUrl = undefined;
    }
  }
  return pdfjs;
}

function linesOf(items: Item[]): string[] {
  const sorted = items.filter((i) => i.str !== '').sort((a, b) => b.y - a.y || a.x - b.x);
  const lines: Item[][] = [];
  for (const item of sorted) {
    const last = lines.at(-1);
    // Same line when the baselines are within a third of the text height (a right-aligned figure beside its label).
    if (last && Math.abs(last[0]!.y - item.y) <= Math.max(1.5, item.height / 3)) last.push(item);
    else lines.push([item]);
  }
  return lines.map((line) => {
    line.sort((a, b) => a.x - b.x);
    let out = '';
    let end = -Infinity;
    for (const item of line) {
      if (out !== '' && item.x - end > Math.max(0.8, item.height * 0.15)) out += ' ';
      out += item.str;
      end = item.x + item.width;
    }
    return out.replace(/\s+/g, ' ').trim();
  });
}

export async function pdfText(pdf: Buffer | Uint8Array): Promise<PdfText> {
  const { getDocument, VerbosityLevel } = await loadPdfJs();
  // PDF.js may take ownership of (detach) the buffer it is given: hand it a copy.
  const data = new Uint8Array(pdf.byteLength);
  data.set(pdf);
  const task = getDocument({ data, verbosity: VerbosityLevel.ERRORS, disableFontFace: true, useSystemFonts: false, standardFontDataUrl });
  const doc = await task.promise;
  try {
    const pageTexts: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      const items: Item[] = [];
      for (const raw of content.items) {
        if (!('str' in raw)) continue;
        const t = raw.transform as number[];
        items.push({ str: raw.str, x: t[4]!, y: t[5]!, width: raw.width, height: raw.height || Math.abs(t[3]!) });
      }
      pageTexts.push(linesOf(items).join('\n'));
      page.cleanup();
    }
    return { pages: doc.numPages, text: pageTexts.join('\n\n'), pageTexts };
  } finally {
    await doc.destroy();
  }
}
