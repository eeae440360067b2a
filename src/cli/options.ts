// Options and argument parsers shared by the commands. Parsers throw commander's
// InvalidArgumentError, so a bad value is reported as "option '--x <n>' argument 'y' is invalid. ...".
import { homedir } from "node:os";
import { join } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";

export const DEFAULT_DATA_DIR = "~/.strata";

/** `--data-dir`, else ~/.strata. */
export function dataDirOf(o: { dataDir?: string }): string {
  return o.dataDir ?? join(homedir(), ".strata");
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("Expected a whole number.");
  return Number(value);
}

export function port(value: string): number {
  const n = wholeNumber(value);
  if (n > 65535) throw new InvalidArgumentError("Expected a port number (0-65535).");
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("Expected a number above 0.");
  return n;
}

/** For repeatable options: each occurrence adds to the list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function dataDirOption(what = "the server's data dir"): Option {
  return new Option("--data-dir <dir>", `${what} (default: ${DEFAULT_DATA_DIR})`);
}

/** --json, for the commands whose output is text unless asked. */
export function jsonOption(): Option {
  return new Option("--json", "print JSON");
}

/**
 * Runs an action and turns its answer into the exit code (commander ignores what actions return);
 * a thrown error is printed by main.ts as "strata: message" with exit code 1.
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes the arguments, then options and command
export function exitWith<A extends any[]>(
  action: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await action(...args);
    if (code !== 0) process.exitCode = code;
  };
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Help text after a command's own: a blank line, then the lines given. */
export function helpAfter(command: Command, ...lines: string[]): Command {
  return command.addHelpText("after", `\n${lines.join("\n")}`);
}
