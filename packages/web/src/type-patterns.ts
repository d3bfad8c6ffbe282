/** Wildcards worth offering for a catalogue: `invoice.*` for every prefix of a name (`invoice.paid`), sorted. */
export function patternsOf(names: string[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    const segs = n.split('.');
    for (let i = 1; i < segs.length; i++) out.add(`${segs.slice(0, i).join('.')}.*`);
  }
  return [...out].sort();
}
