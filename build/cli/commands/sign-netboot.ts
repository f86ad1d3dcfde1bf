import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { signNetboot } from '../../release/sign.js';
import { ZosError } from '../../util/errors.js';
import { DEFAULT_PROFILE } from '../session.js';
import { gpgSigner, withGpgOptions, type GpgArgs } from '../options.js';

interface SignNetbootArgs extends GpgArgs {
  dir?: string;
  profile: string;
  out: string;
}

const command: CommandModule<object, SignNetbootArgs> = {
  command: 'sign-netboot',
  describe:
    'sign the kernel and initramfs of a netboot/ folder built with --netboot-verify-key (<file>.sig, checked against the key its GRUB embeds)',
  builder: (y) =>
    withGpgOptions(
      y
        .option('dir', { type: 'string', describe: 'netboot folder to sign (default <out>/<profile>/netboot)' })
        .option('profile', { alias: 'p', type: 'string', default: DEFAULT_PROFILE, describe: 'build profile' })
        .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'output root' }),
      'secret key to sign with (fingerprint or id; env ZOS_GPG_KEY); required',
    ) as never,
  async handler(argv) {
    const signer = gpgSigner(argv);
    if (!signer) throw new ZosError('sign-netboot: no key given', 'Pass --gpg-key FINGERPRINT (or set ZOS_GPG_KEY).');
    const dir = resolve(argv.dir ?? `${argv.out}/${argv.profile}/netboot`);
    const sigs = await signNetboot(dir, signer);
    console.log(`signed in ${dir}: ${sigs.join(' ')}`);
  },
};
export default command;
