import readlineSync from 'readline-sync';

/**
 * Synchronous questions asked before a session starts (missing arguments, trust, key
 * passphrases), through readline-sync. Only used when stdin and stdout are terminals;
 * everything here has a flag or environment variable for scripts.
 */
export interface Prompter {
  ask(question: string, defaultValue?: string): string;
  secret(question: string): string;
  confirm(question: string): boolean;
}

export const terminalPrompter: Prompter = {
  ask(question, defaultValue) {
    const suffix = defaultValue ? ` [${defaultValue}]` : '';
    const answer = readlineSync.question(`${question}${suffix}: `, { keepWhitespace: false });
    return answer === '' && defaultValue !== undefined ? defaultValue : answer;
  },
  secret(question) {
    return readlineSync.question(question, { hideEchoBack: true, mask: '' });
  },
  confirm(question) {
    return readlineSync.keyInYNStrict(question.replace(/\s*\[y\/N\]\s*$/, ''));
  },
};

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}
