// `strata` (bin/strata runs this file): parses the command line (program.ts) and runs the command.
// An error a command throws prints as "strata: message" and exits 1; commander's own errors
// (unknown command or option, a missing or invalid argument) print their message and exit 1.
import { buildProgram } from "./program.ts";

buildProgram()
  .parseAsync(process.argv.slice(2), { from: "user" })
  .catch((e: Error) => {
    console.error(`strata: ${e.message}`);
    process.exitCode = 1;
  });
