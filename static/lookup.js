// Cameo home page: "type your email to see your avatar and its URLs".
//
// The address is trimmed, lowercased and hashed (SHA-256) here in the browser; nothing is
// sent while typing. Only when the visitor presses Show does the page load the avatar URL,
// which carries the hash, never the address. SubtleCrypto needs a secure context (https or
// localhost); elsewhere a small SHA-256 written below does the same.
//
// Dispatches `lookup:shown` on the form with detail {hash, url} once the URLs are shown.
(() => {
  'use strict';

  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  // SHA-256 of `bytes` (FIPS 180-4), for pages served without a secure context.
  function sha256(bytes) {
    const length = bytes.length;
    const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
    padded.set(bytes);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(padded.length - 4, (length * 8) >>> 0);
    const hash = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    const w = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i += 1) {
        w[i] = view.getUint32(offset + i * 4);
      }
      for (let i = 16; i < 64; i += 1) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, h] = hash;
      for (let i = 0; i < 64; i += 1) {
        const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        h = g;
        g = f;
        f = e;
        e = (d + t1) >>> 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) >>> 0;
      }
      const next = [a, b, c, d, e, f, g, h];
      for (let i = 0; i < 8; i += 1) {
        hash[i] = (hash[i] + next[i]) >>> 0;
      }
    }
    return [...hash].map((word) => word.toString(16).padStart(8, '0')).join('');
  }

  async function hashAddress(address) {
    const bytes = new TextEncoder().encode(address.trim().toLowerCase());
    if (window.crypto && window.crypto.subtle) {
      const digest = await window.crypto.subtle.digest('SHA-256', bytes);
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    return sha256(bytes);
  }

  function start() {
    const box = document.getElementById('lookup');
    const form = document.getElementById('lookup-form');
    const input = document.getElementById('lookup-email');
    const result = document.getElementById('lookup-result');
    const image = document.getElementById('lookup-image');
    const urlField = document.getElementById('lookup-url');
    const hashField = document.getElementById('lookup-hash');
    const error = document.getElementById('lookup-error');
    if (!box || !form || !input || !result || !image || !urlField || !hashField) {
      return;
    }
    const base = form.dataset.base || location.origin;
    box.hidden = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const address = input.value.trim();
      const valid = /^[^\s@]+@[^\s@]+$/.test(address);
      input.setAttribute('aria-invalid', valid ? 'false' : 'true');
      if (error) {
        error.hidden = valid;
      }
      if (!valid) {
        result.hidden = true;
        input.focus();
        return;
      }
      const hash = await hashAddress(address);
      const url = `${base}/avatar/${hash}`;
      image.src = `/avatar/${hash}?s=128&d=mp`;
      image.alt = `The avatar of ${address} on this server`;
      urlField.textContent = `${url}?s=128`;
      hashField.textContent = hash;
      result.hidden = false;
      form.dispatchEvent(new CustomEvent('lookup:shown', { bubbles: true, detail: { hash, url } }));
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
  } else {
    start();
  }
})();
