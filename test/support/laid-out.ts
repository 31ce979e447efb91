import fc from 'fast-check';

/**
 * Texts laid out like the format, each section right or wrong in one detail, so that many parse
 * and the rest miss narrowly: the canonical-form properties are only worth something if both
 * happen. A section is a list of choices; an array section repeats 0 to 3 times.
 */
export type Section = readonly string[] | { repeat: readonly string[] };
function choice(options: readonly string[]): fc.Arbitrary<string> {
  const [first, ...rest] = options as [string, ...string[]];
  if (rest.length === 0) return fc.constant(first);
  // The first option is the right one: drawn as often as all the wrong ones together.
  return fc.oneof(
    { arbitrary: fc.constant(first), weight: rest.length },
    { arbitrary: fc.constantFrom(...rest), weight: rest.length },
  );
}
export function laidOut(...sections: Section[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      ...sections.map((section) =>
        'repeat' in section
          ? fc.array(choice(section.repeat), { maxLength: 3 })
          : choice(section).map((line) => [line]),
      ),
    )
    .map((parts) => parts.flat().join(''));
}

/**
 * The canonical-form property: whatever `parse` accepts formats back to exactly the same text,
 * so no object has two spellings; whatever it refuses, it refuses with a message matching
 * `refusal`, never with a crash.
 */
export function expectCanonical<T>(
  texts: fc.Arbitrary<string>,
  parse: (text: string) => T,
  format: (value: T) => string,
  refusal: RegExp,
): void {
  fc.assert(
    fc.property(texts, (text) => {
      let value: T;
      try {
        value = parse(text);
      } catch (error) {
        if (!refusal.test((error as Error).message)) throw error;
        return;
      }
      if (format(value) !== text) {
        throw new Error(
          `${JSON.stringify(text)} parses but formats as ${JSON.stringify(format(value))}`,
        );
      }
    }),
    { numRuns: 3000 },
  );
}
