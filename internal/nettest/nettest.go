// Package nettest holds the loopback network fixtures that the tests of
// several modules of this repository share: an address where nothing
// listens, a server that never answers, and a proxy that loses an answer.
// It is internal: only this repository's packages import it.
package nettest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// ClosedAddr returns a loopback address where nothing listens.
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return addr
}

// SilentAddr returns the address of a loopback server that accepts
// connections and never answers, until the test ends.
func SilentAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	})
	tb.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// A LossyProxy forwards loopback connections to a server and drops the
// server's answer to the first command that holds a marker the test sets
// (DropAnswerTo): it reads that answer (so the server has run the command)
// and discards it and everything after it on that connection; with
// CloseConn it then closes the connection, otherwise it leaves the client
// waiting.
type LossyProxy struct {
	Addr string // where clients connect

	target    string
	closeConn bool
	marker    atomic.Pointer[[]byte]
	sent      atomic.Int32
	dropped   atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// NewLossyProxy starts a proxy to target, stopped when the test ends.
func NewLossyProxy(tb testing.TB, target string, closeConn bool) *LossyProxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &LossyProxy{Addr: l.Addr().String(), target: target, closeConn: closeConn}
	p.wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			p.serve(conn)
		}
	})
	tb.Cleanup(func() {
		_ = l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// DropAnswerTo arms the proxy: the answer to the next command holding
// marker is dropped.
func (p *LossyProxy) DropAnswerTo(marker string) {
	b := []byte(marker)
	p.marker.Store(&b)
}

// Sent returns how many commands holding the marker the proxy forwarded.
func (p *LossyProxy) Sent() int32 { return p.sent.Load() }

// Dropped reports whether the proxy has dropped an answer.
func (p *LossyProxy) Dropped() bool { return p.dropped.Load() }

func (p *LossyProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	var drop atomic.Bool
	closeBoth := func() {
		_ = client.Close()
		_ = server.Close()
	}
	// Client to server: note the marker before the command reaches the
	// server, so that its answer cannot come back first.
	p.wg.Go(func() {
		defer closeBoth()
		buf := make([]byte, 64<<10)
		var tail []byte
		for {
			n, err := client.Read(buf)
			if err != nil {
				return
			}
			if m := p.marker.Load(); m != nil {
				seen := append(tail, buf[:n]...)
				if bytes.Contains(seen, *m) {
					p.sent.Add(1)
					if !p.dropped.Swap(true) {
						drop.Store(true)
					}
				}
				tail = append([]byte(nil), seen[max(0, len(seen)-len(*m)):]...)
			}
			if _, err := server.Write(buf[:n]); err != nil {
				return
			}
		}
	})
	// Server to client.
	p.wg.Go(func() {
		defer closeBoth()
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			if drop.Load() {
				if p.closeConn {
					return
				}
				continue
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
	})
}
