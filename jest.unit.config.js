// The unit tests alone (npm run test:unit): no root, no servers, no syslog, nothing written into
// the checkout, so any user can run them on a built tree. npm test runs them with the rest.
const os = require('os');
const path = require('path');

module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/dist/test/unit'],
  testMatch: ['**/*.test.js'],
  testEnvironment: 'node',
  // Jest's cache goes to the temporary directory of whoever runs it, never into the checkout.
  cacheDirectory: path.join(os.tmpdir(), `pam_mapi-jest-${process.getuid ? process.getuid() : 'user'}`),
  maxWorkers: 2,
  verbose: true,
};
