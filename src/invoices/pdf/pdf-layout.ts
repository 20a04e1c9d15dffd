import PDFDocument from 'pdfkit';

/**
 * What Folio's PDFs share (invoices, payment receipts; src/invoices/pdf/render-invoice-pdf.ts and
 * src/payments/receipts/render-receipt-pdf.ts): A4 page geometry, the palette and sizes, text the standard fonts can show
 * (`pdfSafe`), a document with the two Helvetica fonts parsed once per process, the `Writer` that places text at computed
 * coordinates (widths cached), the footer drawn on every page ("Page i of N", an optional watermark), and the formats of
 * amounts and days.
 */

export type Doc = PDFKit.PDFDocument;
export type FontName = 'Helvetica' | 'Helvetica-Bold';

export const REGULAR: FontName = 'Helvetica';
export const BOLD: FontName = 'Helvetica-Bold';

// A4 in points, margins.
export const PAGE_WIDTH = 595.28;
export const PAGE_HEIGHT = 841.89;
export const LEFT = 40;
export const RIGHT = PAGE_WIDTH - 40;
export const TOP = 40;
/** Content stops here; the footer lives below. */
export const BOTTOM = PAGE_HEIGHT - 56;
export const FOOTER_Y = PAGE_HEIGHT - 36;

export const INK = '#1f2933';
export const MUTED = '#5f6b7a';
export const RULE = '#d5dbe1';
export const BAND = '#eef1f4';
export const RED = '#c92a2a';
export const GREEN = '#2b8a3e';
export const ORANGE = '#d9480f';

export const BODY = 9;
export const SMALL = 8;

// ---------------------------------------------------------------------------------------------------------------------------
// Text the standard fonts can show (WinAnsiEncoding): printable ASCII, Latin-1, and the 27 characters of 0x80-0x9F.
const WIN_ANSI_EXTRA = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018, 0x2019, 0x201c,
  0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178,
]);
/** Letters without a decomposition that still have an obvious Latin reading. */
const FALLBACK: Record<string, string> = { 'Đ': 'D', 'đ': 'd', 'Ł': 'L', 'ł': 'l', 'Ħ': 'H', 'ħ': 'h', 'ı': 'i', 'ŀ': 'l', 'Ŀ': 'L', 'ß': 'ss' };

function showable(code: number): boolean {
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(code);
}

const SAFE = /^[\x20-\x7e]*$/;

/**
 * A string the standard fonts can show: tabs and odd spaces become spaces, accents outside WinAnsi are dropped from their letter
 * (`Nguyễn` -> `Nguyen`, but `é` stays), and anything else becomes `?`. Line breaks are kept (`\n`) for multi-line fields.
 */
export function pdfSafe(text: string): string {
  if (SAFE.test(text)) return text;
  let out = '';
  for (const ch of text.replace(/\r\n?/g, '\n').normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if (ch === '\n' || showable(code)) {
      out += ch;
    } else if (code === 0x09 || /\s/u.test(ch)) {
      out += ' ';
    } else if (FALLBACK[ch] !== undefined) {
      out += FALLBACK[ch];
    } else {
      // Try the letter with its accents: keep what shows (the base letter, and a WinAnsi accented form when one exists).
      const parts = [...ch.normalize('NFD')];
      const base = parts[0]!;
      const withOne = parts.length > 2 ? (base + parts[1]!).normalize('NFC') : '';
      if (withOne.length === 1 && showable(withOne.codePointAt(0)!)) out += withOne;
      else if (parts.length > 1 && showable(base.codePointAt(0)!)) out += base;
      else if (/\p{M}/u.test(ch)) out += '';
      else out += '?';
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------------
// Speed. A fresh pdfkit document parses the AFM metrics (glyph widths and ~2,700 kerning pairs) of every standard font it opens,
// which was a quarter of a 20-line invoice's time. FolioPdfDocument reuses two font objects built once per process, with
// kerning off (getKernPair 0: invoice text does not need it, and looking pairs up was another sixth of the time). These lean on
// pdfkit 0.20's internals (`initFonts`, `_fontFamilies`, `_fragment`), pinned in package.json; when they are not there the
// document falls back to pdfkit's own path, and the tests (which read every figure back) still hold.
interface PdfKitInternals {
  _font: object;
  _fontFamilies: Record<string, object>;
  _fontCount: number;
  _fragment?: (text: string, x: number, y: number, options: object) => void;
}
interface FontTemplate {
  font: { getKernPair?: unknown };
  dictionary?: unknown;
  embedded?: unknown;
}

const pdfkitInitFonts = (PDFDocument.prototype as unknown as { initFonts?: (this: unknown, font: string | null) => void }).initFonts;
let sharedFonts: Record<FontName, FontTemplate> | null | undefined;

function loadSharedFonts(): Record<FontName, FontTemplate> | null {
  if (sharedFonts !== undefined) return sharedFonts;
  try {
    const boot = new PDFDocument({ autoFirstPage: false });
    const internals = boot as unknown as PdfKitInternals;
    const fonts = {} as Record<FontName, FontTemplate>;
    for (const name of [REGULAR, BOLD]) {
      boot.font(name);
      const font = internals._font as FontTemplate;
      if (typeof font?.font?.getKernPair !== 'function' || typeof internals._fontFamilies !== 'object') throw new Error('pdfkit internals changed');
      font.font.getKernPair = () => 0;
      fonts[name] = font;
    }
    sharedFonts = typeof pdfkitInitFonts === 'function' ? fonts : null;
  } catch {
    sharedFonts = null;
  }
  return sharedFonts;
}

function fontFor(template: FontTemplate, doc: object, id: string): object {
  const font = Object.assign(Object.create(Object.getPrototypeOf(template) as object) as FontTemplate, template, { document: doc, id });
  delete font.dictionary;
  delete font.embedded;
  return font;
}

const PdfKitDocument = PDFDocument as unknown as new (options: PDFKit.PDFDocumentOptions) => PDFKit.PDFDocument;

/** A pdfkit document that opens Helvetica and Helvetica-Bold from fonts parsed once per process. */
export class FolioPdfDocument extends PdfKitDocument {
  /** Called by pdfkit's constructor: open Helvetica and Helvetica-Bold from the shared templates. */
  initFonts(): void {
    const fonts = loadSharedFonts();
    if (fonts && pdfkitInitFonts) {
      pdfkitInitFonts.call(this, null);
      const internals = this as unknown as PdfKitInternals;
      internals._fontFamilies[REGULAR] = fontFor(fonts[REGULAR], this, 'F1');
      internals._fontFamilies[BOLD] = fontFor(fonts[BOLD], this, 'F2');
      internals._fontCount = 2;
      this.font(REGULAR);
    } else {
      pdfkitInitFonts?.call(this, REGULAR);
    }
  }
}

// Widths: measured with pdfkit once per (font, string) at size 1 and kept across calls (bounded).
const WIDTH_CACHE_LIMIT = 50_000;
const widthCache = new Map<string, number>();

/** Text and rules at computed coordinates, with the font state kept so pdfkit is told only of changes. */
export class Writer {
  readonly doc: Doc;
  private font: FontName | null = null;
  private size = 0;
  private color = '';
  y = TOP;
  /** Called after a page break (e.g. to repeat a table header). */
  onNewPage: (() => void) | null = null;

  private readonly fragment: PdfKitInternals['_fragment'];

  constructor(doc: Doc) {
    this.doc = doc;
    const fragment = (doc as unknown as PdfKitInternals)._fragment;
    this.fragment = typeof fragment === 'function' ? fragment : undefined;
  }

  use(font: FontName, size: number, color = INK): void {
    if (font !== this.font) {
      this.doc.font(font);
      this.font = font;
    }
    if (size !== this.size) {
      this.doc.fontSize(size);
      this.size = size;
    }
    if (color !== this.color) {
      this.doc.fillColor(color);
      this.color = color;
    }
  }

  /** The width of `text` in the current font and size (pdfkit's measure, cached across calls). */
  width(text: string): number {
    if (this.font === null || this.size === 0) this.use(this.font ?? REGULAR, this.size || BODY, this.color || INK);
    const key = this.font === BOLD ? `B${text}` : `R${text}`;
    let unit = widthCache.get(key);
    if (unit === undefined) {
      unit = this.doc.widthOfString(text) / this.size;
      if (widthCache.size >= WIDTH_CACHE_LIMIT) widthCache.clear();
      widthCache.set(key, unit);
    }
    return unit * this.size;
  }

  /** Text whose top-left is (x, y); no wrapping. */
  at(text: string, x: number, y: number): void {
    if (text === '') return;
    const options = { lineBreak: false, textWidth: this.width(text), wordCount: 1 };
    // pdfkit's text() measures the string again after drawing it; its _fragment draws it once, at (x, y), and nothing else.
    if (this.fragment) this.fragment.call(this.doc, text, x, y, options);
    else this.doc.text(text, x, y, options as PDFKit.Mixins.TextOptions);
  }

  right(text: string, rightX: number, y: number): void {
    if (text === '') return;
    this.at(text, rightX - this.width(text), y);
  }

  center(text: string, centerX: number, y: number): void {
    if (text === '') return;
    this.at(text, centerX - this.width(text) / 2, y);
  }

  /** Greedy word wrap to `maxWidth` in the current font; explicit line breaks kept; an over-long word is cut by characters. */
  wrap(text: string, maxWidth: number): string[] {
    const lines: string[] = [];
    for (const paragraph of text.split('\n')) {
      const words = paragraph.split(' ').filter((w) => w !== '');
      if (words.length === 0) {
        lines.push('');
        continue;
      }
      const space = this.width(' ');
      let line = '';
      let lineWidth = 0;
      for (let word of words) {
        let w = this.width(word);
        if (line !== '' && lineWidth + space + w <= maxWidth) {
          line += ` ${word}`;
          lineWidth += space + w;
          continue;
        }
        if (line !== '') lines.push(line);
        while (w > maxWidth && word.length > 1) {
          // Cut the longest prefix that fits (at least one character).
          let cut = 1;
          let cutWidth = this.width(word[0]!);
          while (cut < word.length) {
            const next = cutWidth + this.width(word[cut]!);
            if (next > maxWidth) break;
            cutWidth = next;
            cut++;
          }
          lines.push(word.slice(0, cut));
          word = word.slice(cut);
          w = this.width(word);
        }
        line = word;
        lineWidth = w;
      }
      if (line !== '') lines.push(line);
    }
    return lines;
  }

  /** Room for `height` more points on this page, or a new page. */
  ensure(height: number): void {
    if (this.y + height > BOTTOM) this.newPage();
  }

  newPage(): void {
    this.doc.addPage();
    this.newPageState();
    this.y = TOP;
    this.onNewPage?.();
  }

  /** Forget the font and colour set: a new page's content stream (or one switched back to) starts from its own state. */
  newPageState(): void {
    this.font = null;
    this.size = 0;
    this.color = '';
  }

  rule(x1: number, x2: number, y: number, color = RULE, width = 0.6): void {
    this.doc.save().lineWidth(width).strokeColor(color).moveTo(x1, y).lineTo(x2, y).stroke().restore();
  }

  band(x: number, y: number, w: number, h: number, color = BAND): void {
    this.doc.save().rect(x, y, w, h).fill(color).restore();
    this.color = '';
  }
}

// ---------------------------------------------------------------------------------------------------------------------------
// Figures and days

/** `"1234567.5"` -> `"1,234,567.5"`: the API's digits, grouped like the screen (web/shared/money.ts formatMoney). */
export function groupDigits(amount: string): string {
  const m = /^(-)?(\d+)(\.\d+)?$/.exec(amount);
  if (!m) return amount;
  return `${m[1] ?? ''}${m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

export const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
export const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });

/** "30 Nov 2026" (UTC day) from an RFC 3339 time or a `YYYY-MM-DD` date; "—" when absent. */
export function formatDay(value: string | null): string {
  if (!value) return '\u2014';
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(d.getTime()) ? value : dateFormat.format(d);
}

// ---------------------------------------------------------------------------------------------------------------------------
// A document, and the footer of every page

export interface OpenedPdf {
  doc: Doc;
  w: Writer;
  /** End the document and return its bytes. */
  finish: () => Promise<Buffer>;
}

/** An A4 document (pages buffered, so footers can be drawn once the page count is known) and its writer. */
export function openPdf(options: { info: PDFKit.DocumentInfo; compress?: boolean }): OpenedPdf {
  const doc = new FolioPdfDocument({
    size: 'A4',
    margins: { top: TOP, bottom: 20, left: LEFT, right: PAGE_WIDTH - RIGHT },
    bufferPages: true,
    compress: options.compress ?? true,
    info: { Creator: 'Folio', Producer: 'Folio', ...options.info },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  return {
    doc,
    w: new Writer(doc),
    finish: async () => {
      doc.end();
      await ended;
      return Buffer.concat(chunks);
    },
  };
}

/**
 * On every page: an optional diagonal watermark (DRAFT, VOID, REVERSED), a rule, `left` (cut to 100 characters) and the
 * generation time on the left, "Page i of N" on the right.
 */
export function drawPageFooters(w: Writer, footer: { left: string; generatedAt: Date; watermark?: { text: string; color: string; size: number; dy: number } | null }): void {
  const doc = w.doc;
  const range = doc.bufferedPageRange();
  const total = range.count;
  const left = pdfSafe(footer.left);
  const generated = `Generated ${dateFormat.format(footer.generatedAt)} ${timeFormat.format(footer.generatedAt)} UTC`;
  const mark = footer.watermark ?? null;
  for (let i = 0; i < total; i++) {
    doc.switchToPage(range.start + i);
    w.newPageState();
    if (mark) {
      doc.save();
      doc.rotate(-35, { origin: [PAGE_WIDTH / 2, PAGE_HEIGHT / 2] });
      doc.fillOpacity(0.08);
      w.use(BOLD, mark.size, mark.color);
      w.center(mark.text, PAGE_WIDTH / 2, PAGE_HEIGHT / 2 + mark.dy);
      doc.restore();
      w.newPageState();
    }
    w.rule(LEFT, RIGHT, FOOTER_Y - 6);
    w.use(REGULAR, SMALL, MUTED);
    w.at(left.length > 100 ? `${left.slice(0, 98)}...` : left, LEFT, FOOTER_Y);
    w.at(generated, LEFT, FOOTER_Y + 10);
    w.use(BOLD, SMALL, MUTED);
    w.right(`Page ${i + 1} of ${total}`, RIGHT, FOOTER_Y);
  }
}
