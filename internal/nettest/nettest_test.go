package nettest

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo starts a loopback server that answers each line with itself.
func echo(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestLossyProxy(t *testing.T) {
	for _, closeConn := range []bool{false, true} {
		p := NewLossyProxy(t, echo(t), closeConn)
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		ask := func(line string) (string, error) {
			if _, err := c.Write([]byte(line + "\n")); err != nil {
				return "", err
			}
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			return r.ReadString('\n')
		}
		if got, err := ask("one"); err != nil || got != "one\n" {
			t.Fatalf("before arming: %q, %v", got, err)
		}
		p.DropAnswerTo("MARK")
		if got, err := ask("a MARK b"); err == nil {
			t.Fatalf("the marked answer came through: %q", got)
		}
		if !p.Dropped() || p.Sent() != 1 {
			t.Fatalf("Dropped, Sent = %v, %d; want true, 1", p.Dropped(), p.Sent())
		}
		c.Close()
	}
}

func TestSilentAndClosedAddr(t *testing.T) {
	c, err := net.Dial("tcp", SilentAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the silent server answered %d bytes", n)
	}
	if c, err := net.Dial("tcp", ClosedAddr(t)); err == nil {
		c.Close()
		t.Fatal("something listens at ClosedAddr")
	}
}
