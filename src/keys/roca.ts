/**
 * ROCA (CVE-2017-15361): RSA keys from a flawed Infineon generator have primes of the form k*M + (65537^a mod M),
 * so their modulus, reduced mod each small prime r, always lies in the subgroup that 65537 generates mod r. A
 * random modulus does so for all 38 primes below with negligible probability; a ROCA modulus always does.
 * This is the published fingerprint test (Nemec et al., CCS 2017), with the subgroups computed rather than copied.
 */

const PRIMES = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113,
  127, 131, 137, 139, 149, 151, 157, 163, 167,
];

let subgroups: { prime: number; members: Set<number> }[] | undefined;

/** For each prime r, the residues 65537^k mod r. Computed once, on first use. */
function generatedSubgroups() {
  subgroups ??= PRIMES.map((prime) => {
    const generator = 65537 % prime;
    const members = new Set<number>();
    for (let value = 1; !members.has(value); value = (value * generator) % prime) members.add(value);
    return { prime, members };
  });
  return subgroups;
}

/** True when the big-endian modulus bytes carry the ROCA fingerprint. */
export function hasRocaFingerprint(modulus: Uint8Array): boolean {
  for (const { prime, members } of generatedSubgroups()) {
    let remainder = 0;
    for (const byte of modulus) remainder = (remainder * 256 + byte) % prime;
    if (!members.has(remainder)) return false;
  }
  return true;
}
