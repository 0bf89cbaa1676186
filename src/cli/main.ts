/**
 * The `ain` command line: a table of sub-commands, each in `commands/<name>.ts`, loaded only when used so that
 * `ain pack` does not pay for the chain or the agent. Exit codes: 0 success, 1 a check failed, 2 an error
 * (bad input, missing file, unreachable service).
 */
import { isAinError } from '../core/errors.js';

/** A sub-command: parses its own arguments and returns the process exit code. */
export interface ICommand {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => ICommand> = {
  pack: () => require('./commands/pack.js').command,
  dev: () => require('./commands/dev.js').command,
  chain: () => require('./commands/chain.js').command,
  provider: () => require('./commands/provider.js').command,
  verify: () => require('./commands/verify.js').command,
  challenge: () => require('./commands/challenge.js').command
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, load]) => `  ain ${name.padEnd(10)} ${load().summary}`);
  return [
    'Usage: ain <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `ain <command> --help` for its options.'
  ].join('\n');
}

/** Runs `ain` with the given arguments (without the node and script paths) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // console.debug is libraries' chatter (@jupyterlab/services logs every websocket it opens): never on stdout,
  // where `--json` output must stay parseable; on stderr with AIN_DEBUG=1.
  console.debug = process.env.AIN_DEBUG ? (...args: unknown[]) => console.error(...args) : () => undefined;
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`ain: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const command = load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // Typed errors already say what failed and what to do; anything else is a bug worth a stack trace.
    if (isAinError(e) || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`ain ${name}: ${(e as Error).message}`);
    } else {
      console.error(`ain ${name}: unexpected failure:`, e);
    }
    return 2;
  }
}
