import type { ArtifactKind } from '../profile/types.js';
import { efiWriter } from './efi.js';
import { isoWriter } from './iso.js';
import { netbootWriter } from './netboot.js';
import type { ArtifactWriter } from './types.js';
import { usbNetbootWriter } from './usb-netboot.js';
import { usbWriter } from './usb.js';

export type { ArtifactInput, ArtifactWriter, NetbootSettings } from './types.js';
export { bootCommandLine, renderBootIpxe, renderGrubNetCfg } from './scripts.js';

export const writers: Record<ArtifactKind, ArtifactWriter> = {
  efi: efiWriter,
  netboot: netbootWriter,
  usb: usbWriter,
  'usb-netboot': usbNetbootWriter,
  iso: isoWriter,
};
