// What a store type is to the rest of the program: one descriptor per type, as Dovecot's
// passdb_module_interface is one struct per backend. The registry lists them; nothing outside a
// store's own folder names a store type, so a new store is its folder plus one line there.
import { SectionReader } from '../config/section';
import { StoreContext } from './context';
import { Store } from './store';

export interface StoreDescriptor<S> {
  /** The `type =` value of its config sections. */
  readonly type: string;
  /** Keys of its section whose values are secrets: a config file that sets one must not be
   * readable by group or others, and such a value holding ";" or "#" must be quoted. */
  readonly secretKeys: readonly string[];
  /** The doctor's fix when the store cannot be opened or does not answer a lookup. */
  readonly doctorHint: string;
  /** Reads and checks its section (every key it leaves unread is refused as unknown). */
  readSettings(r: SectionReader): S;
  /** Where settings came from when other files gave them (server_cfg, an ldap.cfg), one line
   * each, never a secret's value: shown by the doctor. */
  describe?(settings: S): string[];
  /** Opens the store from what readSettings returned. */
  open(settings: S, ctx: StoreContext): Store;
}
