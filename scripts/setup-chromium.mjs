#!/usr/bin/env node
/**
 * Makes the Browser Rendering binding work locally (wrangler dev and the vitest pool) with no
 * download: miniflare launches "Chrome for Testing <version>" from
 *   ${XDG_CACHE_HOME:-$HOME/.cache}/.wrangler/chrome/linux-<version>/chrome-linux64/chrome
 * and only downloads it when that file is missing (which fails without internet). This script
 *  1. installs Debian's `chromium` when /usr/bin/chromium is missing (as root; otherwise it says how),
 *  2. reads the Chrome version the installed miniflare asks for (never hard-coded, so a miniflare
 *     upgrade moves the launcher with it),
 *  3. writes an executable launcher at that path which `exec`s /usr/bin/chromium with flags that
 *     suit a container. stderr is left alone: miniflare reads the "DevTools listening" line from it.
 * Idempotent: running it twice changes nothing. Exit code 0 when the launcher is in place.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function log(message) {
  console.log(`[setup-chromium] ${message}`);
}

function ensureChromium() {
  if (fs.existsSync(CHROMIUM)) return;
  if (process.platform !== 'linux') {
    throw new Error(`${CHROMIUM} is missing and this script only installs it on Debian/Ubuntu Linux`);
  }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(`${CHROMIUM} is missing. Install it as root: sudo apt-get update && sudo apt-get install -y chromium`);
  }
  log('installing Debian chromium (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit', env });
  if (!fs.existsSync(CHROMIUM)) throw new Error(`apt-get finished but ${CHROMIUM} is still missing`);
}

/** The miniflare that wrangler itself uses (the one that launches the browser). */
function miniflareEntry() {
  const require = createRequire(import.meta.url);
  const wranglerPkg = require.resolve('wrangler/package.json');
  return createRequire(wranglerPkg).resolve('miniflare');
}

/** Reads `browserVersion: "126.0.6478.182"` and checks the `chrome-linux64/chrome` path scheme. */
export function readExpectedChrome(source) {
  const versions = new Set([...source.matchAll(/browserVersion:\s*["'](\d+\.\d+\.\d+\.\d+)["']/g)].map((m) => m[1]));
  if (versions.size !== 1) {
    throw new Error(`expected exactly one browserVersion in miniflare, found ${versions.size ? [...versions].join(', ') : 'none'}`);
  }
  if (!source.includes('"chrome-linux64", "chrome"')) {
    throw new Error('miniflare no longer uses the chrome-linux64/chrome layout; update scripts/setup-chromium.mjs');
  }
  return [...versions][0];
}

function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, '.wrangler', 'chrome');
}

function launcherScript() {
  return `#!/bin/sh\n# Written by crawlgate scripts/setup-chromium.mjs: miniflare's "Chrome for Testing" is Debian's chromium.\nexec ${CHROMIUM} ${FLAGS.join(' ')} "$@"\n`;
}

function main() {
  ensureChromium();
  const entry = miniflareEntry();
  const version = readExpectedChrome(fs.readFileSync(entry, 'utf8'));
  const target = path.join(cacheDir(), `linux-${version}`, 'chrome-linux64', 'chrome');
  const content = launcherScript();
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  if (current === content && (fs.statSync(target).mode & 0o111) !== 0) {
    log(`launcher already in place: ${target}`);
    return;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content, { mode: 0o755 });
  fs.chmodSync(target, 0o755);
  log(`launcher for Chrome ${version} written: ${target} → ${CHROMIUM}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error(`[setup-chromium] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
