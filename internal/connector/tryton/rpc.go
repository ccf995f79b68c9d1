package tryton

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossdock/crossdock/internal/connector"
)

const maxResponse = 32 << 20

// LoginRetryDelay is how long a caller is asked to wait when trytond
// refuses a login with 429 (its rate limit on failed logins).
const LoginRetryDelay = time.Minute

// RPCError is an error Tryton reported in a JSON-RPC answer: a UserError,
// a UserWarning, a ConcurrencyException, or an unexpected server exception.
type RPCError struct {
	// Method is the JSON-RPC method called, e.g. model.stock.shipment.out.wait.
	Method string
	// Kind is Tryton's exception name ("UserError", "UserWarning",
	// "ConcurrencyException"...) or "ServerError" for an unexpected exception.
	Kind string
	// Name is the warning's name for a UserWarning (the key a user answers).
	Name string
	// Message is the exception's message.
	Message string
}

// Error implements error.
func (e *RPCError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Method, e.Kind, e.Message)
}

// HTTPError is an answer from trytond that is not 200 OK.
type HTTPError struct {
	Method     string
	StatusCode int
	Body       string
}

// Error implements error.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.Method, e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// ErrAuth marks a refused login (wrong user, password or database); it is
// wrapped as permanent, as retrying with the same credentials cannot help.
var ErrAuth = errors.New("tryton: login refused")

// rpcClient speaks Tryton's JSON-RPC over HTTP: common.db.login for a
// session, then model calls with "Authorization: Session ..." and the
// user's context. An expired session is renewed once per call.
type rpcClient struct {
	endpoint string // <url>/<database>/
	database string
	user     string
	password string
	timeout  time.Duration
	hc       *http.Client
	seq      atomic.Int64

	mu      sync.Mutex
	auth    string         // base64 "user:uid:session"; empty before login
	uid     int64          // the user's id
	context map[string]any // the user's preferences sent with model calls
}

func newRPCClient(url, database, user, password string, timeout time.Duration, hc *http.Client) *rpcClient {
	return &rpcClient{
		endpoint: strings.TrimRight(url, "/") + "/" + database + "/",
		database: database, user: user, password: password, timeout: timeout, hc: hc,
	}
}

type rpcRequest struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Params []any  `json:"params"`
}

type rpcResponse struct {
	ID     int64           `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// post sends one JSON-RPC request with the given session header (empty: none)
// and decodes result into out.
func (c *rpcClient) post(ctx context.Context, auth, method string, params []any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := json.Marshal(rpcRequest{ID: c.seq.Add(1), Method: method, Params: params})
	if err != nil {
		return connector.Permanent(fmt.Errorf("%s: encode request: %w", method, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return connector.Permanent(fmt.Errorf("%s: build request: %w", method, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "crossdock-tryton/1")
	if auth != "" {
		req.Header.Set("Authorization", "Session "+auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return classifyHTTP(method, resp, b)
	}
	var r rpcResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: decode answer: %w", method, err)
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		return classifyRPC(method, r.Error)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			return connector.Permanent(fmt.Errorf("%s: decode result: %w", method, err))
		}
	}
	return nil
}

// classifyHTTP maps a non-200 answer to the connector's error classes: 401
// is a refused session or login (wraps ErrAuth), 429 asks to retry later,
// other 4xx are permanent, 5xx are transient.
func classifyHTTP(method string, resp *http.Response, body []byte) error {
	msg := strings.TrimSpace(string(body))
	if strings.HasPrefix(msg, "<") { // werkzeug's HTML error page
		msg = http.StatusText(resp.StatusCode)
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	he := &HTTPError{Method: method, StatusCode: resp.StatusCode, Body: msg}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrAuth, he)
	case s == http.StatusTooManyRequests:
		d := LoginRetryDelay
		if n, err := strconv.ParseInt(resp.Header.Get("Retry-After"), 10, 64); err == nil && n >= 0 {
			d = time.Duration(math.MaxInt64) // a delay that would overflow (found by FuzzRPCResponse)
			if n <= math.MaxInt64/int64(time.Second) {
				d = time.Duration(n) * time.Second
			}
		}
		return connector.RetryAfter(d, he)
	case s == http.StatusRequestTimeout || s >= 500:
		return he
	case s >= 400:
		return connector.Permanent(he)
	default:
		return fmt.Errorf("unexpected %w", he)
	}
}

// classifyRPC maps Tryton's error array to the connector's error classes.
// UserError, UserWarning, LoginException and access errors are permanent
// (Tryton refused the data); ConcurrencyException and unexpected server
// exceptions (e.g. a locked database) are transient.
func classifyRPC(method string, raw json.RawMessage) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) == 0 {
		return &RPCError{Method: method, Kind: "ServerError", Message: string(raw)}
	}
	var kind string
	_ = json.Unmarshal(parts[0], &kind)
	var args []any
	if len(parts) > 1 {
		_ = json.Unmarshal(parts[1], &args)
	}
	str := func(i int) string {
		if i < len(args) {
			if s, ok := args[i].(string); ok {
				return s
			}
		}
		return ""
	}
	e := &RPCError{Method: method, Kind: kind}
	switch kind {
	case "UserError", "AccessError":
		e.Message = strings.TrimSpace(str(0) + " " + str(1))
		return connector.Permanent(e)
	case "UserWarning":
		e.Name, e.Message = str(0), strings.TrimSpace(str(1)+" "+str(2))
		return connector.Permanent(e)
	case "LoginException":
		e.Name, e.Message = str(0), str(1)
		return connector.Permanent(fmt.Errorf("%w: %w", ErrAuth, e))
	case "ConcurrencyException":
		e.Message = str(0)
		return e
	default:
		// An unexpected exception: parts[0] is its text, parts[1] a traceback.
		e.Kind, e.Message = "ServerError", kind
		return e
	}
}

// login opens a session and loads the user's context. Called with c.mu held.
func (c *rpcClient) login(ctx context.Context) error {
	var res []json.RawMessage
	err := c.post(ctx, "", "common.db.login", []any{c.user, map[string]any{"password": c.password}, "en"}, &res)
	if err != nil {
		if errors.Is(err, ErrAuth) {
			return connector.Permanent(fmt.Errorf("tryton: login as %q to database %q refused: check user, password and database: %w", c.user, c.database, err))
		}
		var he *HTTPError
		if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
			return connector.Permanent(fmt.Errorf("tryton: database %q not found: %w", c.database, err))
		}
		return fmt.Errorf("tryton: login: %w", err)
	}
	// An answer of the wrong shape is permanent, like any result that
	// does not decode: logging in again gets the same answer (found by
	// FuzzRPCResponse; these were transient).
	if len(res) != 2 {
		return connector.Permanent(fmt.Errorf("tryton: login: unexpected answer %d elements", len(res)))
	}
	var uid int64
	var session string
	if err := json.Unmarshal(res[0], &uid); err != nil {
		return connector.Permanent(fmt.Errorf("tryton: login: user id: %w", err))
	}
	if err := json.Unmarshal(res[1], &session); err != nil {
		return connector.Permanent(fmt.Errorf("tryton: login: session: %w", err))
	}
	auth := base64.StdEncoding.EncodeToString([]byte(c.user + ":" + strconv.FormatInt(uid, 10) + ":" + session))
	var prefs map[string]any
	if err := c.post(ctx, auth, "model.res.user.get_preferences", []any{true, map[string]any{}}, &prefs); err != nil {
		return fmt.Errorf("tryton: user preferences: %w", err)
	}
	uctx := map[string]any{}
	for k, v := range prefs {
		// Keep the context proper: company, language... not the display
		// helpers such as "company.rec_name" or the group list.
		if !strings.Contains(k, ".") && k != "groups" {
			uctx[k] = v
		}
	}
	c.auth, c.uid, c.context = auth, uid, uctx
	return nil
}

// session returns the current session and context, logging in if needed.
func (c *rpcClient) session(ctx context.Context, renew string) (string, map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.auth == "" || c.auth == renew {
		if err := c.login(ctx); err != nil {
			return "", nil, err
		}
	}
	return c.auth, c.context, nil
}

// userID returns the logged-in user's id.
func (c *rpcClient) userID(ctx context.Context) (int64, error) {
	if _, _, err := c.session(ctx, ""); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uid, nil
}

// model calls model.<name>.<method> with args followed by the user's
// context merged with extra, and decodes the result into out. A session
// refused with 401 is renewed once.
func (c *rpcClient) model(ctx context.Context, name, method string, extra map[string]any, out any, args ...any) error {
	rpcMethod := "model." + name + "." + method
	var stale string
	for attempt := 0; ; attempt++ {
		auth, uctx, err := c.session(ctx, stale)
		if err != nil {
			return err
		}
		callCtx := make(map[string]any, len(uctx)+len(extra))
		for k, v := range uctx {
			callCtx[k] = v
		}
		for k, v := range extra {
			callCtx[k] = v
		}
		params := append(append(make([]any, 0, len(args)+1), args...), callCtx)
		err = c.post(ctx, auth, rpcMethod, params, out)
		if err != nil && errors.Is(err, ErrAuth) && attempt == 0 {
			stale = auth // the session expired: log in again once
			continue
		}
		if err != nil && errors.Is(err, ErrAuth) {
			return connector.Permanent(fmt.Errorf("tryton: session refused after a fresh login: %w", err))
		}
		return err
	}
}
