package browsertest

// A tab's requests as the Network domain of the DevTools protocol reports
// them, for TestCookieCrossOriginAttacks.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// netLog records a tab's requests to URLs under prefix from its Network
// events: what the browser put on the wire, and what came back.
type netLog struct {
	prefix string

	mu    sync.Mutex
	order []network.RequestID // in the order the browser first mentioned them
	reqs  map[network.RequestID]*netRequest
}

// netRequest is one request as the Network events report it.
type netRequest struct {
	ID       network.RequestID
	URL      string
	Method   string
	Type     network.ResourceType
	Headers  network.Headers             // as sent (requestWillBeSentExtraInfo)
	Cookies  []*network.AssociatedCookie // the cookies sent, and those withheld with the reasons
	Status   int64                       // 0 until the answer
	Failed   string                      // why the browser failed the request, if it did (CORS)
	Body     string                      // the answer's body, when the browser kept it
	NoBody   string                      // why there is no Body
	extra    bool                        // requestWillBeSentExtraInfo seen
	finished bool                        // loadingFinished or loadingFailed seen
}

// listenNetwork starts recording tab's requests to URLs under prefix. The
// tab's Network domain is enabled already (chromedp enables it).
func listenNetwork(t *testing.T, tab context.Context, prefix string) *netLog {
	t.Helper()
	l := &netLog{prefix: prefix, reqs: make(map[network.RequestID]*netRequest)}
	require.NoError(t, chromedp.Listen(tab, l.add))
	return l
}

// add records one event; it runs on the tab's event loop, so it is quick.
func (l *netLog) add(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r := l.get(ev.RequestID)
		r.URL, r.Method, r.Type = ev.Request.URL, ev.Request.Method, ev.Type
	case *network.EventRequestWillBeSentExtraInfo:
		r := l.get(ev.RequestID)
		r.Headers, r.Cookies, r.extra = ev.Headers, ev.AssociatedCookies, true
	case *network.EventResponseReceivedExtraInfo:
		l.get(ev.RequestID).Status = ev.StatusCode
	case *network.EventResponseReceived:
		if r := l.get(ev.RequestID); r.Status == 0 {
			r.Status = ev.Response.Status
		}
	case *network.EventLoadingFinished:
		l.get(ev.RequestID).finished = true
	case *network.EventLoadingFailed:
		r := l.get(ev.RequestID)
		r.finished, r.Failed = true, ev.ErrorText
		if ev.CorsErrorStatus != nil {
			r.Failed += " (" + string(ev.CorsErrorStatus.CorsError) + ")"
		}
	}
}

func (l *netLog) get(id network.RequestID) *netRequest {
	r, ok := l.reqs[id]
	if !ok {
		r = &netRequest{ID: id}
		l.reqs[id] = r
		l.order = append(l.order, id)
	}
	return r
}

// Len returns the number of requests the tab has made so far, to any URL.
func (l *netLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.order)
}

// await waits, within stepTimeout, until the tab's requests from the from-th
// on include n to the prefix, each with its headers and a final answer, and
// returns copies of them.
func (l *netLog) await(t *testing.T, tab context.Context, from, n int) []*netRequest {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		got, done := l.since(from)
		if len(got) >= n && done {
			return got
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, tab, "cookie-attack-failure.png")
			for _, r := range got {
				t.Logf("seen: %s", r)
			}
			t.Fatalf("%d requests to %s, finished: %t, within %v; want %d", len(got), l.prefix, done, stepTimeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitDocument waits, within stepTimeout, until the tab's requests from
// the from-th on include a navigation to url that has its answer, and
// returns a copy of it.
func (l *netLog) awaitDocument(t *testing.T, tab context.Context, from int, url string) *netRequest {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		got, _ := l.since(from)
		for _, r := range got {
			if r.Type == network.ResourceTypeDocument && r.URL == url && r.finished && r.Status != 0 {
				return r
			}
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, tab, "cookie-attack-failure.png")
			t.Fatalf("no answer to a navigation to %s within %v", url, stepTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// since returns copies of the requests to the prefix from the from-th
// request on, and whether they have all finished.
func (l *netLog) since(from int) ([]*netRequest, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var got []*netRequest
	done := true
	for _, id := range l.order[min(from, len(l.order)):] {
		r := l.reqs[id]
		if !strings.HasPrefix(r.URL, l.prefix) {
			continue
		}
		c := *r
		got = append(got, &c)
		done = done && r.extra && r.finished && r.Status != 0
	}
	return got, done
}

// readBodies reads, while the tab still holds them (until it navigates),
// the bodies of the answers to the requests to the prefix from the from-th
// request on.
func (l *netLog) readBodies(t *testing.T, tab context.Context, from int) {
	t.Helper()
	got, _ := l.since(from)
	for _, r := range got {
		if r.Body != "" || r.NoBody != "" {
			continue // read already
		}
		ctx, cancel := context.WithTimeout(tab, stepTimeout)
		res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: r.ID})
		cancel()
		l.mu.Lock()
		if err != nil {
			l.reqs[r.ID].NoBody = err.Error()
		} else {
			l.reqs[r.ID].Body = string(res.Body)
		}
		l.mu.Unlock()
	}
}

// header returns the value of the request header name, "" when absent.
func (r *netRequest) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// cookies returns the names of the passauth cookies the browser sent with
// the request, and those it withheld, with the reasons.
func (r *netRequest) cookies() (sent []string, withheld map[string]string) {
	for _, c := range r.Cookies {
		if c.Cookie == nil || (c.Cookie.Name != accessCookie && c.Cookie.Name != refreshCookie) {
			continue
		}
		if len(c.BlockedReasons) == 0 {
			sent = append(sent, c.Cookie.Name)
			continue
		}
		if withheld == nil {
			withheld = make(map[string]string)
		}
		reasons := make([]string, len(c.BlockedReasons))
		for i, reason := range c.BlockedReasons {
			reasons[i] = string(reason)
		}
		withheld[c.Cookie.Name] = strings.Join(reasons, ",")
	}
	return sent, withheld
}

// String describes the request without a cookie's value.
func (r *netRequest) String() string {
	sent, withheld := r.cookies()
	body := r.Body
	if body == "" {
		body = "(" + r.NoBody + ")"
	}
	return fmt.Sprintf("%s %s %s: Origin %s, Sec-Fetch-Site %s, Sec-Fetch-Mode %s, Sec-Fetch-Dest %s; cookies sent %v, withheld %v; answer %d %s%s",
		r.Type, r.Method, r.URL, r.header("Origin"), r.header("Sec-Fetch-Site"), r.header("Sec-Fetch-Mode"),
		r.header("Sec-Fetch-Dest"), sent, withheld, r.Status, strings.TrimSpace(body), failure(r.Failed))
}

func failure(text string) string {
	if text == "" {
		return ""
	}
	return "; failed in the browser: " + text
}
