/**
 * Billed call time as people say it, the same on the screen, in the PDF, in invoice lines and in emails: "2 h 5 min",
 * "1 h", "21 min", "7 min 30 s", "45 s" (no "0 s" or "0 min"). No dependencies: the web app imports it too.
 */
export function formatBilledTime(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h > 0 ? `${h} h` : '', m > 0 ? `${m} min` : '', s > 0 || seconds === 0 ? `${s} s` : ''].filter((p) => p !== '');
  return parts.join(' ');
}
