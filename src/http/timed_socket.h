// TimedSocket: a Beast SyncReadStream/SyncWriteStream over a blocking TCP
// socket whose every read and write waits at most `timeout_ms` (poll(2)
// before each operation). Asio's blocking operations ignore SO_RCVTIMEO, so
// this is how a sync client or server avoids hanging on a peer that stopped
// (SIGSTOP, a partition) while still accepting TCP connections.
// Thread-compatible.
#pragma once

#include <poll.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

namespace kdfs {

// Capacity to reserve in the beast::flat_buffer a connection reads into.
// Beast reads at most capacity - size bytes per read_some (512 when the buffer
// starts empty), so without this a streamed body costs a recv() and a poll()
// per 512 bytes.
inline constexpr size_t kSocketReadBufferBytes = 64 * 1024;

class TimedSocket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  TimedSocket(boost::asio::ip::tcp::socket& socket, int timeout_ms)
      : socket_(socket), timeout_ms_(timeout_ms) {}

  executor_type get_executor() { return socket_.get_executor(); }

  template <class Buffers>
  size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (!Wait(POLLIN, ec)) return 0;
    return socket_.read_some(buffers, ec);
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    return OrThrow([&](boost::system::error_code& ec) { return read_some(buffers, ec); });
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (!Wait(POLLOUT, ec)) return 0;
    return socket_.write_some(buffers, ec);
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    return OrThrow([&](boost::system::error_code& ec) { return write_some(buffers, ec); });
  }

  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  // The throwing form Beast's stream concepts also require.
  template <class Op>
  static size_t OrThrow(Op op) {
    boost::system::error_code ec;
    const size_t n = op(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  bool Wait(short events, boost::system::error_code& ec) {
    pollfd p{socket_.native_handle(), events, 0};
    for (;;) {
      int r = ::poll(&p, 1, timeout_ms_);
      if (r > 0) return true;
      if (r == 0) {
        ec = boost::asio::error::timed_out;
        return false;
      }
      if (errno != EINTR) {
        ec = boost::system::error_code(errno, boost::system::system_category());
        return false;
      }
    }
  }

  boost::asio::ip::tcp::socket& socket_;
  const int timeout_ms_;
};

}  // namespace kdfs
