#include "server/tls/tls_socket.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <cerrno>

#include "server/net/drained_read.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

// The socket as OpenSSL's BIO sees it. `kernel_bytes`: what TCP_INQ said was left after
// the last read (0 after EAGAIN; -1 when not known, which counts as "maybe").
struct TlsSocketIo {
  int fd = -1;
  int last_errno = 0;
  int kernel_bytes = -1;
};

namespace {

TlsSocketIo& io_of(BIO* bio) {
  return *static_cast<TlsSocketIo*>(BIO_get_data(bio));
}

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

int bio_read(BIO* bio, char* data, int size) {
  TlsSocketIo& io = io_of(bio);
  BIO_clear_retry_flags(bio);
  int left = -1;
  const ssize_t n =
      detail::receive_with_inq(io.fd, data, static_cast<std::size_t>(size), MSG_DONTWAIT, left);
  if (n > 0) {
    io.kernel_bytes = left;
    return static_cast<int>(n);
  }
  if (n == 0) {
    io.kernel_bytes = -1;  // the end of stream: a read finds it at once
    return 0;
  }
  if (would_block(errno)) {
    io.kernel_bytes = 0;
    BIO_set_retry_read(bio);
  } else {
    io.last_errno = errno;
    io.kernel_bytes = -1;
  }
  return -1;
}

int bio_write(BIO* bio, const char* data, int size) {
  TlsSocketIo& io = io_of(bio);
  BIO_clear_retry_flags(bio);
  const ssize_t n =
      ::send(io.fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);
  if (would_block(errno))
    BIO_set_retry_write(bio);
  else
    io.last_errno = errno;
  return -1;
}

long bio_ctrl(BIO*, int command, long, void*) {
  // Nothing is buffered here: a flush is done once written.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The socket is the stream's; freeing the BIO never closes it.
int bio_destroy(BIO*) {
  return 1;
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "svcproxy socket");
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    return m;
  }();
  return method;
}

}  // namespace

TlsEngine::TlsEngine(int fd, asio::ssl::context& context) : io_(std::make_unique<TlsSocketIo>()) {
  io_->fd = fd;
  ssl_ = SSL_new(context.native_handle());
  if (!ssl_) throw std::bad_alloc();
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                         SSL_MODE_RELEASE_BUFFERS);
  // A read takes what the kernel has (up to a record buffer) in one recv(2), not a record
  // header and then its body.
  SSL_set_read_ahead(ssl_, 1);
  BIO* bio = BIO_new(socket_method());
  if (!bio) {
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, io_.get());
  SSL_set_bio(ssl_, bio, bio);
}

TlsEngine::TlsEngine(TlsEngine&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)),
      io_(std::move(other.io_)),
      handshake_started_(other.handshake_started_) {}

TlsEngine::~TlsEngine() {
  if (ssl_) SSL_free(ssl_);
}

bool TlsEngine::may_have_bytes() const {
  return SSL_has_pending(ssl_) == 1 || io_->kernel_bytes != 0;
}

TlsEngine::Step TlsEngine::result_of(int ret, std::size_t bytes) {
  if (ret > 0) return {Step::Wait::None, {}, bytes};
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return {Step::Wait::Read, {}, 0};
    case SSL_ERROR_WANT_WRITE:
      return {Step::Wait::Write, {}, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {Step::Wait::None, asio::error::eof, 0};
    case SSL_ERROR_SYSCALL: {
      ERR_clear_error();
      if (io_->last_errno != 0)
        return {Step::Wait::None, {io_->last_errno, asio::error::get_system_category()}, 0};
      return {Step::Wait::None, asio::ssl::error::stream_truncated, 0};
    }
    case SSL_ERROR_SSL: {
      const unsigned long error = ERR_get_error();
      ERR_clear_error();
      if (ERR_GET_REASON(error) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return {Step::Wait::None, asio::ssl::error::stream_truncated, 0};
      return {Step::Wait::None, {static_cast<int>(error), asio::error::get_ssl_category()}, 0};
    }
    default:
      ERR_clear_error();
      return {Step::Wait::None, asio::ssl::error::unexpected_result, 0};
  }
}

// Each call's errors are its own: OpenSSL's queue and the BIO's errno start empty.
void TlsEngine::start_call() {
  ERR_clear_error();
  io_->last_errno = 0;
}

TlsEngine::Step TlsEngine::handshake_step(asio::ssl::stream_base::handshake_type type) {
  if (!handshake_started_) {
    handshake_started_ = true;
    if (type == asio::ssl::stream_base::client)
      SSL_set_connect_state(ssl_);
    else
      SSL_set_accept_state(ssl_);
  }
  start_call();
  const int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? Step{} : result_of(ret, 0);
}

TlsEngine::Step TlsEngine::read_step(void* data, std::size_t size) {
  start_call();
  std::size_t n = 0;
  const int ret = SSL_read_ex(ssl_, data, size, &n);
  return ret == 1 ? Step{Step::Wait::None, {}, n} : result_of(ret, 0);
}

TlsEngine::Step TlsEngine::write_step(const void* data, std::size_t size) {
  start_call();
  std::size_t n = 0;
  const int ret = SSL_write_ex(ssl_, data, size, &n);
  return ret == 1 ? Step{Step::Wait::None, {}, n} : result_of(ret, 0);
}

TlsEngine::Step TlsEngine::shutdown_step() {
  start_call();
  int ret = SSL_shutdown(ssl_);
  if (ret == 0) ret = SSL_shutdown(ssl_);  // ours went out: now the peer's
  return ret == 1 ? Step{} : result_of(ret, 0);
}

}  // namespace svcproxy::server
