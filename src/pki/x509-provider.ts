// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// One provider for the whole process: Node's own WebCrypto, so signing is native and no polyfill decides our key handling.
x509.cryptoProvider.set(webcrypto);

/** x509 is @peculiar/x509 with Node's WebCrypto installed as its provider; import it from here, never directly. */
export { x509 };
