// Guard: every npm script must run on the Node 24 that `npm ci` installs from the registry's `node` package.
const major = Number(process.versions.node.split('.')[0]);
const minor = Number(process.versions.node.split(".")[1]);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`Folio needs Node.js 22.18 or newer (24 preferred; type stripping is on by default from 22.18) (found ${process.version}). Run it through npm scripts after \`npm ci\`, which installs Node 24 as a dependency.`);
  process.exit(1);
}
