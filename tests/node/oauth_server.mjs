// A real OAuth 2.0 / OIDC authorization server on loopback for the tests
// (oauth2-mock-server): authorization code with PKCE (it checks the
// verifier against the challenge), refresh tokens, revoke, userinfo.
// Prints {"port": N} once listening; exits when stdin closes.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
const port = server.address().port;
let tokenRequests = 0;
server.service.on('beforeResponse', () => { tokenRequests += 1; });
process.stdout.write(JSON.stringify({ port }) + '\n');
process.stdin.on('data', () => process.stdout.write(JSON.stringify({ tokenRequests }) + '\n'));
process.stdin.on('end', async () => { await server.stop(); process.exit(0); });
process.stdin.resume();
