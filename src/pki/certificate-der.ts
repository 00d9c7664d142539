import { DerError, TAG, childrenOf, contentOf, decodeOid, expectTag, rawOf, readNode, readRoot, readTime, type DerNode } from './der.js';

/** CertificateParts are the fields of an X.509 certificate as their exact DER bytes, for byte-wise comparison. */
export interface CertificateParts {
  /** The signed part, as signed. */
  tbsDer: Buffer;
  /** The outer signatureAlgorithm, whole AlgorithmIdentifier DER. */
  signatureAlgorithmDer: Buffer;
  /** The signature value (the BIT STRING's octets). */
  signature: Buffer;
  serialOctets: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Buffer;
  /** The extended key usage OIDs, dotted; undefined when the extension is absent. */
  extendedKeyUsage: string[] | undefined;
  /** The explicit [3] extensions block as sent, for the rarer extensions read on demand; undefined in a certificate without. */
  extensionsDer: Buffer | undefined;
}

const EXT_KEY_USAGE_OID = Buffer.from('551d25', 'hex'); // 2.5.29.37, contents only
const SUBJECT_KEY_ID_OID = Buffer.from('551d0e', 'hex'); // 2.5.29.14, contents only

/** readCertificateParts takes an X.509 certificate apart without re-encoding anything; it throws DerError on any malformation. */
export function readCertificateParts(der: Uint8Array): CertificateParts {
  const root = readRoot(der);
  const [tbsNode, signatureAlgorithm, signature, ...extra] = childrenOf(der, root);
  const tbs = expectTag(tbsNode, TAG.SEQUENCE, 'a TBSCertificate');
  expectTag(signatureAlgorithm, TAG.SEQUENCE, 'a signature algorithm');
  const signatureBits = contentOf(der, expectTag(signature, TAG.BIT_STRING, 'a signature'));
  if (extra.length > 0) {
    throw new DerError('malformed: extra fields after the signature');
  }
  if (signatureBits.length < 2 || signatureBits[0] !== 0) {
    throw new DerError('malformed: the signature is not whole octets');
  }
  const fields = childrenOf(der, tbs);
  // The version is an explicit [0] and absent for v1 certificates.
  const at = fields[0]?.tag === TAG.CONTEXT_0 ? 1 : 0;
  const serial = expectTag(fields[at], TAG.INTEGER, 'a serial number');
  expectTag(fields[at + 1], TAG.SEQUENCE, 'a signature algorithm in the TBSCertificate');
  const issuer = expectTag(fields[at + 2], TAG.SEQUENCE, 'an issuer name');
  const validity = expectTag(fields[at + 3], TAG.SEQUENCE, 'a validity');
  const subject = expectTag(fields[at + 4], TAG.SEQUENCE, 'a subject name');
  const spki = expectTag(fields[at + 5], TAG.SEQUENCE, 'a subject public key');
  const times = childrenOf(der, validity);
  if (times.length !== 2) {
    throw new DerError('malformed: the validity is not two times');
  }
  if (serial.end === serial.contentStart) {
    throw new DerError('malformed: an empty serial number');
  }
  const extensions = fields.slice(at + 6).find((node) => node.tag === TAG.CONTEXT_3);
  return {
    tbsDer: rawOf(der, tbs),
    signatureAlgorithmDer: rawOf(der, signatureAlgorithm),
    signature: signatureBits.subarray(1),
    serialOctets: contentOf(der, serial),
    issuerDer: rawOf(der, issuer),
    subjectDer: rawOf(der, subject),
    notBefore: readTime(der, times[0]),
    notAfter: readTime(der, times[1]),
    spkiDer: rawOf(der, spki),
    extendedKeyUsage: extensions ? readExtendedKeyUsage(der, extensions) : undefined,
    extensionsDer: extensions ? rawOf(der, extensions) : undefined,
  };
}

/** readSubjectKeyIdentifier is the keyIdentifier of the subjectKeyIdentifier extension in CertificateParts.extensionsDer; undefined when absent. */
export function readSubjectKeyIdentifier(extensionsDer: Buffer | undefined): Buffer | undefined {
  if (!extensionsDer) return undefined;
  const value = findExtension(extensionsDer, readNode(extensionsDer, 0), SUBJECT_KEY_ID_OID, 'subject key identifier');
  return value && contentOf(extensionsDer, expectTag(value, TAG.OCTET_STRING, 'a key identifier'));
}

function readExtendedKeyUsage(der: Uint8Array, explicit: DerNode): string[] | undefined {
  const value = findExtension(der, explicit, EXT_KEY_USAGE_OID, 'extended key usage');
  return (
    value &&
    childrenOf(der, expectTag(value, TAG.SEQUENCE, 'a list of key purposes')).map((oid) =>
      decodeOid(contentOf(der, expectTag(oid, TAG.OID, 'a key purpose OID'))),
    )
  );
}

// The value (inside its OCTET STRING) of the one extension with this OID in an explicit [3] block; every
// extension on the way is checked for shape, as a reader that skipped them could be fooled by a bad one.
function findExtension(der: Uint8Array, explicit: DerNode, oid: Buffer, what: string): DerNode | undefined {
  const [list, ...extra] = childrenOf(der, explicit);
  if (extra.length > 0) throw new DerError('malformed: extra fields around the extensions');
  let found: DerNode | undefined;
  for (const extension of childrenOf(der, expectTag(list, TAG.SEQUENCE, 'a list of extensions'))) {
    const parts = childrenOf(der, expectTag(extension, TAG.SEQUENCE, 'an extension'));
    const id = contentOf(der, expectTag(parts[0], TAG.OID, 'an extension OID'));
    if (!id.equals(oid)) continue;
    // RFC 5280 4.2: an extension appears at most once; two could be read two ways.
    if (found) throw new DerError(`malformed: two ${what} extensions`);
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'an extension value');
    found = readNode(der, value.contentStart, value.end);
    if (found.end !== value.end) throw new DerError(`malformed: extra bytes in the ${what}`);
  }
  return found;
}

/** subjectKeyBits is the subjectPublicKey BIT STRING contents of an SPKI, less its unused-bits octet (RFC 5280 4.2.1.2 hashes these). */
export function subjectKeyBits(spkiDer: Uint8Array): Buffer {
  const root = readRoot(spkiDer);
  const [algorithm, bits] = childrenOf(spkiDer, root);
  expectTag(algorithm, TAG.SEQUENCE, 'a key algorithm');
  const content = contentOf(spkiDer, expectTag(bits, TAG.BIT_STRING, 'the public key bits'));
  return content.subarray(1);
}

const COMMON_NAME_OID = Buffer.from('550403', 'hex'); // 2.5.4.3, contents only
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16le = new TextDecoder('utf-16le', { fatal: true });

/** readCommonNames lists every CN value in a DER Name, in order, decoding the DirectoryString types X.509 uses. */
export function readCommonNames(nameDer: Uint8Array): string[] {
  const names: string[] = [];
  for (const rdn of childrenOf(nameDer, expectTag(readRoot(nameDer), TAG.SEQUENCE, 'a name'))) {
    expectTag(rdn, TAG.SET, 'a relative distinguished name');
    for (const attribute of childrenOf(nameDer, rdn)) {
      const [type, value, ...extra] = childrenOf(nameDer, expectTag(attribute, TAG.SEQUENCE, 'a name attribute'));
      if (extra.length > 0 || !value) {
        throw new DerError('malformed: a name attribute is not a type and one value');
      }
      if (contentOf(nameDer, expectTag(type, TAG.OID, 'an attribute type')).equals(COMMON_NAME_OID)) {
        names.push(decodeDirectoryString(nameDer, value));
      }
    }
  }
  return names;
}

function decodeDirectoryString(buf: Uint8Array, node: DerNode): string {
  const bytes = contentOf(buf, node);
  try {
    switch (node.tag) {
      case 0x0c: // UTF8String
        return utf8.decode(bytes);
      case 0x13: // PrintableString
      case 0x16: // IA5String
      case 0x14: // TeletexString, read as Latin-1 the way OpenSSL does
        return bytes.toString('latin1');
      case 0x1e: // BMPString, UTF-16BE
        return utf16le.decode(Buffer.from(bytes).swap16());
      case 0x1c: // UniversalString, UTF-32BE
        if (bytes.length % 4 !== 0) break;
        return String.fromCodePoint(...Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32BE(i * 4)));
    }
  } catch {
    // fall through: undecodable text is as bad as an unknown type
  }
  throw new DerError('malformed: a name value is not a readable string');
}

/** readRequestSubject is the subject Name DER of a PKCS#10 request (certificationRequestInfo's second field). */
export function readRequestSubject(der: Uint8Array): Buffer {
  const [info] = childrenOf(der, readRoot(der));
  const [version, subject] = childrenOf(der, expectTag(info, TAG.SEQUENCE, 'a certificationRequestInfo'));
  expectTag(version, TAG.INTEGER, 'a request version');
  return rawOf(der, expectTag(subject, TAG.SEQUENCE, 'a subject name'));
}
