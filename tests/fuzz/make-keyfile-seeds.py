#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz-keyfile: real keys made by openssl, and broken ones.

    tests/fuzz/make-keyfile-seeds.py [OUTDIR]     (default: tests/fuzz/corpus/keyfile)

Each seed is one mode byte (fuzz-keyfile.c: 0 a private key file, 1 PKCS#8
DER, 2 PKCS#1 DER, 3 a public key file, 4 SubjectPublicKeyInfo DER, 5
RSAPublicKey DER) and the file or DER. The keys: RSA of 1024, 2048, 3072,
4096 and 4160 bits, three-prime RSA, RSA-PSS, EC (P-256, SEC1 and PKCS#8),
SM2, Ed25519, Ed448, X25519, X448, DSA and DH; PKCS#8 and PKCS#1, PEM and
DER, encrypted (PKCS#8 and OpenSSL's traditional headers); then truncated,
with a flipped byte at chosen places (tags, lengths, the version, the
algorithm), with trailing bytes, a wrong label, header lines, text around
the block. Keys are random: running it again writes new keys of the same
shapes (the committed corpus is one run). They are test keys, never used
for anything else.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RAW_PRIVATE, PKCS8_DER, PKCS1_DER, RAW_PUBLIC, SPKI_DER, RSA_PUBLIC_DER = range(6)


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, input=stdin).stdout


def genpkey(tmp, name, *opts):
    path = tmp / f"{name}.pem"
    openssl("genpkey", *opts, "-out", path)
    return path


def der(path, *extra):
    """PKCS#8 PrivateKeyInfo DER (`pkey -outform DER` writes the traditional form), or with -pubout SPKI."""
    if "-pubout" in extra:
        return openssl("pkey", "-in", path, "-outform", "DER", *extra)
    return openssl("pkcs8", "-topk8", "-nocrypt", "-in", path, "-outform", "DER")


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "corpus" / "keyfile")
    out.mkdir(parents=True, exist_ok=True)
    seeds = {}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        rsa = {}
        for bits in (1024, 2048, 3072, 4096, 4160):
            k = rsa[bits] = genpkey(tmp, f"rsa{bits}", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}")
            seeds[f"rsa{bits}-pkcs8.pem"] = (RAW_PRIVATE, k.read_bytes())
            seeds[f"rsa{bits}-pkcs8.der"] = (PKCS8_DER, der(k))
            seeds[f"rsa{bits}-pkcs1.der"] = (PKCS1_DER, openssl("rsa", "-in", k, "-outform", "DER", "-traditional"))
            seeds[f"rsa{bits}-spki.der"] = (SPKI_DER, der(k, "-pubout"))
            seeds[f"rsa{bits}-rsapublickey.der"] = (RSA_PUBLIC_DER, openssl("rsa", "-in", k, "-outform", "DER",
                                                                            "-RSAPublicKey_out"))
        k = rsa[2048]
        seeds["rsa2048-pkcs1.pem"] = (RAW_PRIVATE, openssl("rsa", "-in", k, "-traditional"))
        seeds["rsa2048-spki.pem"] = (RAW_PUBLIC, openssl("pkey", "-in", k, "-pubout"))
        seeds["rsa2048-rsapublickey.pem"] = (RAW_PUBLIC, openssl("rsa", "-in", k, "-RSAPublicKey_out"))
        seeds["rsa2048-private-as-public.pem"] = (RAW_PUBLIC, k.read_bytes())
        seeds["rsa2048-pkcs8-encrypted.pem"] = (RAW_PRIVATE, openssl("pkcs8", "-topk8", "-in", k, "-v2", "aes-128-cbc",
                                                                     "-passout", "pass:x"))
        seeds["rsa2048-traditional-encrypted.pem"] = (RAW_PRIVATE, openssl("rsa", "-in", k, "-aes128", "-traditional",
                                                                           "-passout", "pass:x"))
        three = genpkey(tmp, "rsa3p", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-pkeyopt", "rsa_keygen_primes:3")
        seeds["rsa-three-primes-pkcs1.der"] = (PKCS1_DER, openssl("rsa", "-in", three, "-outform", "DER", "-traditional"))
        seeds["rsa-three-primes-pkcs8.der"] = (PKCS8_DER, der(three))
        pss = genpkey(tmp, "pss", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048")
        seeds["rsa-pss-pkcs8.der"] = (PKCS8_DER, der(pss))
        seeds["rsa-pss-spki.der"] = (SPKI_DER, der(pss, "-pubout"))
        others = {
            "ec-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "sm2": ["-algorithm", "SM2"],
            "ed25519": ["-algorithm", "ED25519"],
            "ed448": ["-algorithm", "ED448"],
            "x25519": ["-algorithm", "X25519"],
            "x448": ["-algorithm", "X448"],
            "dh-ffdhe2048": ["-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"],
        }
        for name, opts in others.items():
            p = genpkey(tmp, name, *opts)
            seeds[f"{name}-pkcs8.der"] = (PKCS8_DER, der(p))
            seeds[f"{name}-spki.der"] = (SPKI_DER, der(p, "-pubout"))
        ec = tmp / "ec-p256.pem"
        seeds["ec-p256-sec1.pem"] = (RAW_PRIVATE, openssl("ec", "-in", ec))
        params = tmp / "dsa-params.pem"
        openssl("genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", params)
        dsa = tmp / "dsa.pem"
        openssl("genpkey", "-paramfile", params, "-out", dsa)
        seeds["dsa-pkcs8.der"] = (PKCS8_DER, der(dsa))
        seeds["dsa-traditional.pem"] = (RAW_PRIVATE, openssl("dsa", "-in", dsa))

        # Broken ones, from the 2048-bit RSA key.
        p8, p1 = seeds["rsa2048-pkcs8.der"][1], seeds["rsa2048-pkcs1.der"][1]
        pem = k.read_bytes()
        seeds["truncated-pkcs8.der"] = (PKCS8_DER, p8[:len(p8) // 2])
        seeds["truncated-pkcs1.der"] = (PKCS1_DER, p1[:len(p1) - 1])
        seeds["truncated-pem-no-end.pem"] = (RAW_PRIVATE, pem[:pem.index(b"-----END")])
        seeds["truncated-pem-body.pem"] = (RAW_PRIVATE, pem[:200] + pem[pem.index(b"-----END"):])
        for where, at in (("outer-tag", 0), ("outer-length", 1), ("version", 6), ("algorithm-oid", 13),
                          ("octet-string-tag", 22), ("inner-sequence-tag", 26), ("modulus-length", 36)):
            bad = bytearray(p8)
            bad[at] ^= 0x01
            seeds[f"flipped-pkcs8-{where}.der"] = (PKCS8_DER, bytes(bad))
        for where, at in (("version", 6), ("modulus-tag", 7), ("modulus-sign", 11)):
            bad = bytearray(p1)
            bad[at] ^= 0x80 if where == "modulus-sign" else 0x01
            seeds[f"flipped-pkcs1-{where}.der"] = (PKCS1_DER, bytes(bad))
        assert p8[:2] == b"\x30\x82"
        resequence = lambda body: b"\x30\x82" + len(body).to_bytes(2, "big") + body  # noqa: E731
        seeds["pkcs8-empty-attributes.der"] = (PKCS8_DER, resequence(p8[4:] + b"\xa0\x00"))
        # Bytes after the key inside the PrivateKeyInfo: OpenSSL refuses it; key-file.c took it (fuzz-keyfile).
        seeds["pkcs8-bytes-after-the-key.der"] = (PKCS8_DER, resequence(p8[4:] + b"\x05\x00"))
        seeds["trailing-byte-pkcs8.der"] = (PKCS8_DER, p8 + b"\0")
        seeds["trailing-byte-pkcs1.der"] = (PKCS1_DER, p1 + b"\0")
        seeds["label-mismatch.pem"] = (RAW_PRIVATE, pem.replace(b"-----END PRIVATE KEY", b"-----END RSA PRIVATE KEY"))
        seeds["header-lines.pem"] = (RAW_PRIVATE, pem.replace(b"KEY-----\n", b"KEY-----\nComment: x\n\n", 1))
        seeds["text-around.pem"] = (RAW_PRIVATE, b"a certificate bag\n" + pem + b"\ntrailing text\n")
        seeds["empty"] = (RAW_PRIVATE, b"")
    for name, (mode, data) in sorted(seeds.items()):
        (out / name).write_bytes(bytes([mode]) + data)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
