/**
 * `zos-build agent <action>`: talk to the core0 agent of a booted node.
 *
 *   zos-build agent ping
 *   zos-build agent exec -- uname -r        (exits with the remote exit code)
 *   zos-build agent info mem                (prints JSON)
 *   zos-build agent jobs
 *   zos-build agent kill <job-id> [--signal 9]
 *   zos-build agent bash 'echo $(hostname)'      (exits with the script's exit code)
 *   zos-build agent ps
 *   zos-build agent upload ./file /var/tmp/file | download /var/tmp/file ./file
 *   zos-build agent call disk.list | call btrfs.subvol_list '{"path":"/mnt/pool"}'
 *   zos-build agent reboot | poweroff
 *   zos-build agent keygen --out op.pem     (prints the public key for zos.keys= / agent.operatorKeys)
 *   zos-build agent token --key op.pem --node zos-525400123456 [--ttl 10m]
 *
 * Every action that talks to a node authenticates with --key (mints a short-lived token for the node
 * named in its TLS certificate) or --token, over TLS pinned with --pin (else trusted on first use, said
 * loudly); --plain only for runmode=dev / insecure nodes.
 *
 * Outbound mode (a node with zos.mgmt=, driven through the management Redis; docs/protocol.md):
 *   zos-build agent admit --mgmt rediss://mgmt:6380 --pin sha256:... --node zos-5254... --sha256 <hex>
 *   zos-build agent ping --mgmt rediss://mgmt:6380 --pin sha256:... --node zos-5254...
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { generateKeyFile, loadPrivateKey } from '../../agent-client/operator-key.js';
import { audienceOf, mintToken, parseTtl } from '../../agent-client/token.js';
import { type ConnectOptions, INFO_KINDS, type InfoKind } from '../../agent-client/types.js';
import type { MgmtOptions } from '../../agent-client/mgmt.js';
import { ZosError } from '../../util/errors.js';

const ACTIONS = [
  'ping',
  'exec',
  'bash',
  'info',
  'jobs',
  'ps',
  'kill',
  'upload',
  'download',
  'call',
  'reboot',
  'poweroff',
  'admit',
  'token',
  'keygen',
] as const;
type Action = (typeof ACTIONS)[number];

export interface AgentArgs {
  action: Action;
  args: string[];
  host: string;
  port: number;
  key?: string;
  token?: string;
  ttl: string;
  node?: string;
  farm?: string;
  pin?: string;
  plain: boolean;
  out?: string;
  wait: number;
  timeout: number;
  'max-time'?: number;
  stream: boolean;
  signal?: number;
  '--'?: string[];
  // outbound mode
  mgmt?: string;
  sha256?: string;
  'mgmt-user'?: string;
  'mgmt-password'?: string;
}

/** The remote program's exit code (the agent reports 1000 + code, as 0-core); 1 for agent errors. */
function exitCodeOf(code: number): number {
  return code > 1000 && code < 1256 ? code - 1000 : 1;
}

function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/** Words after `--` (yargs puts them in `_` after the command words unless populate-- is on). */
function trailing(argv: ArgumentsCamelCase<AgentArgs>): string[] {
  if (Array.isArray(argv['--'])) return argv['--'].map(String);
  const rest = argv._.map(String);
  const at = rest.indexOf('agent');
  return at >= 0 ? rest.slice(at + 1) : [];
}

/** --mgmt and its companions: the management Redis and the operator account on it. */
function mgmtOptions(argv: ArgumentsCamelCase<AgentArgs>): MgmtOptions {
  if (!argv.mgmt) throw new ZosError(`agent ${argv.action}: --mgmt rediss://HOST:PORT is required`);
  return {
    mgmt: argv.mgmt,
    pin: argv.pin,
    user: argv['mgmt-user'],
    password: argv['mgmt-password'] ?? process.env.ZOS_MGMT_PASSWORD,
  };
}

/** `agent admit`: lets one outbound node log in to the management Redis (ACL SETUSER). */
async function admit(argv: ArgumentsCamelCase<AgentArgs>): Promise<void> {
  if (!argv.node || !argv.sha256) {
    throw new ZosError(
      'agent admit: --node and --sha256 are required',
      'Copy them from the node\'s console line "outbound identity node=<id> sha256=<hex>".',
    );
  }
  const { admitNode, nodeUser, nodeNamespace } = await import('../../agent-client/mgmt.js');
  await admitNode(mgmtOptions(argv), argv.node, argv.sha256);
  process.stdout.write(
    `admitted ${argv.node} on ${argv.mgmt}: user ${nodeUser(argv.node)}, keys ${nodeNamespace(argv.node)}*\n`,
  );
}

/** How to reach and authenticate to the node, from --key/--token/--pin/--plain and their variables. */
async function connectOptions(argv: ArgumentsCamelCase<AgentArgs>): Promise<ConnectOptions> {
  const keyFile = argv.key ?? process.env.ZOS_KEY;
  let token: ConnectOptions['token'] = argv.token ?? process.env.ZOS_TOKEN;
  if (token === undefined && keyFile) {
    const key = await loadPrivateKey(keyFile);
    const ttlS = parseTtl(argv.ttl);
    const fixed = audienceOf(argv);
    token = (node: string) => {
      const aud = fixed.length > 0 ? fixed : [node];
      if (aud[0] === '') {
        throw new ZosError('--key over --plain: which node is the token for?', 'Pass --node HOSTNAME or --farm ID.');
      }
      return mintToken(key, { aud, ttlS, sub: 'zos-build' });
    };
  }
  const pin = argv.pin ?? process.env.ZOS_PIN;
  const tls: ConnectOptions['tls'] = argv.plain
    ? false
    : {
        pin,
        onFirstUse: (fp, node) =>
          process.stderr.write(
            `!!! TRUST ON FIRST USE: node ${node || '?'} at ${argv.host}:${argv.port} presented ${fp}\n` +
              "!!! Compare it with the 'TLS fingerprint' line on the node's console, then pass --pin " +
              `${fp}\n`,
          ),
      };
  return { host: argv.host, port: argv.port, token, tls };
}

/** keygen and token: local actions, no node involved. */
async function runLocal(argv: ArgumentsCamelCase<AgentArgs>): Promise<void> {
  if (argv.action === 'keygen') {
    if (!argv.out) throw new ZosError('agent keygen: --out FILE is required (the private key is written there)');
    const pub = await generateKeyFile(argv.out);
    process.stderr.write(`private key written to ${argv.out} (keep it secret); public key:\n`);
    process.stdout.write(`${pub}\n`);
    return;
  }
  const keyFile = argv.key ?? process.env.ZOS_KEY;
  if (!keyFile) throw new ZosError('agent token: --key FILE is required (an operator private key)');
  const aud = audienceOf(argv);
  if (aud.length === 0) {
    throw new ZosError(
      'agent token: --node HOSTNAME or --farm ID is required (the audience)',
      'A node accepts tokens naming its host name (zos-<mac>) or farm:<farmer_id>.',
    );
  }
  const token = mintToken(await loadPrivateKey(keyFile), { aud, ttlS: parseTtl(argv.ttl), sub: 'zos-build' });
  process.stdout.write(`${token}\n`);
}

async function run(argv: ArgumentsCamelCase<AgentArgs>): Promise<void> {
  if (argv.action === 'token' || argv.action === 'keygen') return runLocal(argv);
  if (argv.action === 'admit') return admit(argv);
  if (argv.mgmt && !argv.node) {
    throw new ZosError('agent: --mgmt needs --node <id> (the node to drive through the management Redis)');
  }
  const opts = argv.mgmt
    ? await (await import('../../agent-client/mgmt.js')).mgmtConnectOptions(mgmtOptions(argv), argv.node)
    : await connectOptions(argv);
  const { AgentClient: Client, AgentCommandError } = await import('../../agent-client/client.js');
  const agent = argv.wait > 0 ? await Client.waitForAgent(opts, argv.wait * 1000) : await Client.connect(opts);
  const timeoutMs = argv.timeout * 1000;
  try {
    const args = [...(argv.args ?? []).map(String), ...trailing(argv)];
    switch (argv.action) {
      case 'ping': {
        const t0 = Date.now();
        const answer = await agent.ping({ timeoutMs });
        process.stdout.write(`${answer} (${Date.now() - t0} ms)\n`);
        return;
      }
      case 'exec':
      case 'bash': {
        const [name, ...rest] = args;
        if (!name) {
          throw new ZosError(
            `agent ${argv.action}: nothing to run`,
            "Usage: zos-build agent exec -- uname -r, or agent bash 'echo hi'",
          );
        }
        const maxTime = argv['max-time'];
        const opts = {
          maxTime,
          timeoutMs: maxTime ? maxTime * 1000 + 30_000 : timeoutMs,
          onLine: argv.stream
            ? (l: { stream: string; line: string }) =>
                (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${l.line}\n`)
            : undefined,
        };
        const r =
          argv.action === 'bash'
            ? await agent.bash([name, ...rest].join(' '), opts)
            : await agent.system(name, rest, opts);
        if (!argv.stream) {
          process.stdout.write(r.streams[0]);
          process.stderr.write(r.streams[1]);
        }
        if (r.state !== 'SUCCESS' && r.state !== 'ERROR') {
          process.stderr.write(`agent: ${r.state}: ${typeof r.value === 'string' ? r.value : r.data}\n`);
        } else if (
          r.state === 'ERROR' &&
          r.streams[0] === '' &&
          r.streams[1] === '' &&
          typeof r.value === 'string' &&
          r.value
        ) {
          // The program did not run (not found, bad arguments): say why.
          process.stderr.write(`agent: ${r.value}\n`);
        }
        process.exitCode = r.state === 'SUCCESS' ? 0 : exitCodeOf(r.code);
        return;
      }
      case 'info': {
        const kind = (args[0] ?? 'os') as InfoKind;
        if (!INFO_KINDS.includes(kind)) {
          throw new ZosError(
            `agent info: unknown kind ${JSON.stringify(kind)}`,
            `Use one of: ${INFO_KINDS.join(', ')}`,
          );
        }
        printJson(await agent.info(kind));
        return;
      }
      case 'jobs':
        printJson(await agent.jobs());
        return;
      case 'ps':
        printJson(await agent.processes());
        return;
      case 'upload': {
        const [local, remote] = args;
        if (!local || !remote)
          throw new ZosError(
            'agent upload: need a local file and a remote path',
            'Usage: zos-build agent upload ./f /var/tmp/f',
          );
        const data = await readFile(local);
        await agent.upload(remote, data);
        process.stdout.write(`uploaded ${data.length} bytes to ${agent.address}:${remote}\n`);
        return;
      }
      case 'download': {
        const [remote, local] = args;
        if (!remote || !local)
          throw new ZosError(
            'agent download: need a remote path and a local file',
            'Usage: zos-build agent download /var/tmp/f ./f',
          );
        const data = await agent.download(remote);
        await writeFile(local, data);
        process.stdout.write(`downloaded ${data.length} bytes from ${agent.address}:${remote}\n`);
        return;
      }
      case 'call': {
        const [command, json] = args;
        if (!command)
          throw new ZosError('agent call: no command given', 'Usage: zos-build agent call disk.list [\'{"arg":1}\']');
        let a: Record<string, unknown> | undefined;
        if (json !== undefined) {
          try {
            a = JSON.parse(json) as Record<string, unknown>;
          } catch {
            throw new ZosError(
              `agent call: arguments are not JSON: ${json}`,
              'Pass one JSON object, e.g. \'{"path":"/"}\'',
            );
          }
          if (typeof a !== 'object' || a === null || Array.isArray(a))
            throw new ZosError('agent call: arguments must be a JSON object');
        }
        const r = await agent.call(command, a, { timeoutMs });
        if (r.state !== 'SUCCESS') throw new AgentCommandError(r);
        printJson(r.value ?? null);
        return;
      }
      case 'kill': {
        const id = args[0];
        if (!id) throw new ZosError('agent kill: no job id given', 'Usage: zos-build agent kill <job-id> [--signal N]');
        await agent.kill(id, argv.signal);
        process.stdout.write(`killed ${id}\n`);
        return;
      }
      case 'reboot':
        await agent.reboot();
        process.stdout.write(`${agent.address}: rebooting\n`);
        return;
      case 'poweroff':
        await agent.poweroff();
        process.stdout.write(`${agent.address}: powering off\n`);
        return;
    }
  } finally {
    await agent.close();
  }
}

const command: CommandModule<object, AgentArgs> = {
  command: 'agent <action> [args..]',
  describe:
    "Talk to a node's core0 agent (ping, exec, bash, info, jobs, ps, kill, upload, download, call, reboot,\n" +
    'poweroff), directly or through a management Redis (--mgmt); admit an outbound node there (admit)',
  builder: (y: Argv<object>) =>
    y
      .positional('action', { choices: ACTIONS, describe: 'what to do', demandOption: true })
      .positional('args', { type: 'string', array: true, default: [] as string[], describe: 'arguments of the action' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: "the node's address" })
      .option('port', { type: 'number', default: 6379, describe: "the node's management port" })
      .option('key', {
        type: 'string',
        describe: 'operator private key (PEM): mint a short-lived token per use (default: $ZOS_KEY)',
      })
      .option('token', { type: 'string', describe: 'a token from `agent token` (default: $ZOS_TOKEN)' })
      .option('ttl', { type: 'string', default: '10m', describe: 'lifetime of minted tokens (90s, 10m, 2h; max 24h)' })
      .option('node', {
        type: 'string',
        describe:
          "the node's host name (zos-<mac>): token audience (default: from its TLS cert); with --mgmt, the node to drive",
      })
      .option('farm', { type: 'string', describe: 'token audience: every node with this farmer_id' })
      .option('pin', {
        type: 'string',
        describe:
          "the node's TLS fingerprint sha256:... from its console (default: $ZOS_PIN; else trust on first use); " +
          "with --mgmt, the management Redis certificate's",
      })
      .option('plain', { type: 'boolean', default: false, describe: 'no TLS (nodes in runmode=dev or insecure mode)' })
      .option('out', { type: 'string', describe: 'keygen: file to write the private key to' })
      .option('wait', { type: 'number', default: 0, describe: 'retry for this many seconds while the node boots' })
      .option('timeout', { type: 'number', default: 60, describe: 'seconds to wait for a result' })
      .option('max-time', { type: 'number', describe: 'exec/bash: kill the program after this many seconds' })
      .option('stream', { type: 'boolean', default: false, describe: 'exec/bash: print output while the program runs' })
      .option('signal', { type: 'number', describe: 'kill: send this signal instead of TERM-then-KILL' })
      .option('mgmt', {
        type: 'string',
        describe: 'outbound mode: the management Redis (rediss://HOST:PORT) a node with zos.mgmt= dials',
      })
      .option('mgmt-user', { type: 'string', describe: 'operator ACL user on the management Redis (default: default)' })
      .option('mgmt-password', {
        type: 'string',
        describe: 'operator password on the management Redis (default: $ZOS_MGMT_PASSWORD)',
      })
      .option('sha256', { type: 'string', describe: "admit: the node's identity hash from its console" })
      .example('$0 agent exec -- uname -r', 'run a program on the node')
      .example('$0 agent info mem --key op.pem --pin sha256:AB:...', 'print memory information as JSON')
      .example('$0 agent keygen --out op.pem', 'make an operator key; prints the public key')
      .example(
        '$0 agent admit --mgmt rediss://mgmt:6380 --pin sha256:<hex> --node zos-525400123456 --sha256 <hex>',
        'admit an outbound node on the management Redis',
      ) as unknown as Argv<AgentArgs>,
  handler: run,
};

export default command;
