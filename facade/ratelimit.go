package facade

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// limiter is a token bucket per client id (or per address for requests
// without a valid token). A nil limiter lets every request pass
// (Config.RateLimit 0).
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = int(math.Max(1, perSecond))
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, m: map[string]*bucket{}, swept: time.Now()}
}

// take reports whether key may proceed, else how long until it may.
func (l *limiter) take(key string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	b := l.m[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[key] = b
	}
	b.seen = now
	if now.Sub(l.swept) > time.Minute {
		// idle buckets are full again anyway; dropping them bounds memory
		for k, v := range l.m {
			if now.Sub(v.seen) > time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	l.mu.Unlock()
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// check takes one request of key from its bucket: nil when it may
// proceed, else a 429 telling when to retry (Retry-After).
func (l *limiter) check(c echo.Context, key string) error {
	if l == nil {
		return nil
	}
	ok, wait := l.take(key)
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return httpErr(429, "throttled", "too many requests from this client; retry after "+strconv.Itoa(secs)+"s")
}
