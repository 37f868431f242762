// Session ticket keys for every TLS context of the process: one ring, so a ticket issued by
// any port's context on any worker resumes on any other, rotated every
// ProxyConfig tls.ticketKeyRotation (default 1h). A new key encrypts; the two before it
// still decrypt (a ticket they decrypt is renewed with the new key), so a stolen key opens
// at most three periods of sessions, and a restart forgets them all (keys are never
// written anywhere). OpenSSL's own ticket key never rotates, hence this.
#pragma once

#include <openssl/ssl.h>

#include <chrono>

namespace svcproxy::server {

// Installs the ring's callback on `context`; `rotation` applies to the whole ring.
void use_shared_ticket_keys(SSL_CTX* context, std::chrono::seconds rotation);

}  // namespace svcproxy::server
