// Runs the DCC's own SMKI Repository client (npm @smartdcc/dccboxed-keystore,
// certificateSearch.search / query) against a repository base URL, and prints what it found
// as one JSON document: for each query, the certificates' serials, DER (Base64) and the
// metadata the DCC's code reads from them. Used by tests/integration/test_dcc_repository_client.py.
// Usage: node dcc_repository_client.js BASE_URL QUERIES_JSON
'use strict'
const { search, query } = require('@smartdcc/dccboxed-keystore/dist/certificateSearch')

async function main() {
  const base = process.argv[2]
  const queries = JSON.parse(process.argv[3])
  const out = []
  for (const q of queries) {
    let found
    if (q.serial) {
      const one = await query(q.serial, base)
      found = one ? [one] : []
    } else {
      const sr = { q: q.q, CertificateUsage: q.usage, CertificateStatus: q.status }
      if (q.role !== undefined) sr.CertificateRole = q.role
      found = await search(sr, base)
    }
    out.push(found.map((r) => ({
      serial: r.x509.serialNumber,
      der: r.x509.raw.toString('base64'),
      meta: r.meta,
    })))
  }
  process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? v.toString() : v)))
}

main().catch((e) => {
  process.stderr.write(`dcc client failed: ${e && e.stack ? e.stack : e}\n`)
  process.exit(3)
})
