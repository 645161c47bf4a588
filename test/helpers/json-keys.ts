/** Keys that occur more than once at the top level of one JSON object text (JSON.parse keeps the last silently). */
export function duplicateTopLevelKeys(text: string): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      // Read the string (escapes included); a string at depth 1 followed by ':' is a key.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const raw = text.slice(i, j + 1);
      i = j;
      let k = i + 1;
      while (text[k] === ' ') k++;
      if (depth === 1 && text[k] === ':') {
        const key = JSON.parse(raw) as string;
        if (seen.has(key)) dups.push(key);
        seen.add(key);
      }
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return dups;
}
