package shopifysim

import (
	"strconv"
	"strings"
	"time"
)

// searchFilter is a parsed Shopify search query ("updated_at:>'…' AND
// status:open"). Terms are ANDed; OR is not supported; unknown fields are
// ignored (Shopify ignores them too, with a warning).
type searchFilter struct {
	terms []searchTerm
}

type searchTerm struct {
	field, op, value string
	neg              bool
}

func parseSearch(q string) (*searchFilter, error) {
	f := &searchFilter{}
	for _, tok := range tokenize(q) {
		if tok == "AND" || tok == "and" {
			continue
		}
		t := searchTerm{}
		if strings.HasPrefix(tok, "-") {
			t.neg = true
			tok = tok[1:]
		}
		field, val, ok := strings.Cut(tok, ":")
		if !ok {
			t.value = unquote(tok)
			f.terms = append(f.terms, t)
			continue
		}
		t.field = strings.ToLower(field)
		for _, op := range []string{">=", "<=", ">", "<", "="} {
			if strings.HasPrefix(val, op) {
				t.op = op
				val = val[len(op):]
				break
			}
		}
		if t.op == "" {
			t.op = "="
		}
		t.value = unquote(val)
		f.terms = append(f.terms, t)
	}
	return f, nil
}

func tokenize(q string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			cur.WriteByte(c)
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
			cur.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

func parseSearchTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func cmpOp(c int, op string) bool {
	switch op {
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return c == 0
}

func timeTerm(t searchTerm, v time.Time) bool {
	want, ok := parseSearchTime(t.value)
	if !ok {
		return true
	}
	return cmpOp(v.Truncate(time.Second).Compare(want), t.op)
}

func intTerm(t searchTerm, v int64) bool {
	want, err := strconv.ParseInt(t.value, 10, 64)
	if err != nil {
		if _, id, _, ok := parseGID(t.value); ok {
			want = id
		} else {
			return false
		}
	}
	c := 0
	if v < want {
		c = -1
	} else if v > want {
		c = 1
	}
	return cmpOp(c, t.op)
}

func (f *searchFilter) matchOrder(o *order) bool {
	for _, t := range f.terms {
		if t.matchOrder(o) == t.neg {
			return false
		}
	}
	return true
}

func (t searchTerm) matchOrder(o *order) bool {
	switch t.field {
	case "updated_at":
		return timeTerm(t, o.updatedAt)
	case "created_at":
		return timeTerm(t, o.createdAt)
	case "processed_at":
		return timeTerm(t, o.processedAt)
	case "id":
		return intTerm(t, o.id)
	case "name":
		return strings.EqualFold(strings.TrimPrefix(o.name, "#"), strings.TrimPrefix(t.value, "#"))
	case "email":
		return strings.EqualFold(o.email, t.value)
	case "sku":
		for _, li := range o.lines {
			if li.sku == t.value {
				return true
			}
		}
		return false
	case "status":
		switch strings.ToLower(t.value) {
		case "open":
			return o.closedAt == nil && o.cancelledAt == nil
		case "closed":
			return o.closedAt != nil
		case "cancelled":
			return o.cancelledAt != nil
		}
		return true
	case "fulfillment_status":
		st := o.fulfillmentStatus()
		switch strings.ToLower(t.value) {
		case "shipped", "fulfilled":
			return st == "FULFILLED"
		case "partial":
			return st == "PARTIALLY_FULFILLED"
		case "unshipped", "unfulfilled":
			return st == "UNFULFILLED"
		case "unfulfilled_or_partial":
			return st != "FULFILLED"
		}
		return true
	case "":
		v := strings.ToLower(t.value)
		return strings.Contains(strings.ToLower(o.name), v) || strings.Contains(strings.ToLower(o.email), v)
	}
	return true
}

func (f *searchFilter) matchVariant(v *variant) bool {
	for _, t := range f.terms {
		var ok bool
		switch t.field {
		case "sku":
			ok = v.sku == t.value
		case "barcode":
			ok = v.barcode == t.value
		case "product_id":
			ok = intTerm(t, v.product.id)
		case "id":
			ok = intTerm(t, v.id)
		case "title":
			ok = strings.EqualFold(v.title, t.value)
		case "updated_at":
			ok = timeTerm(t, v.updatedAt)
		case "":
			s := strings.ToLower(t.value)
			ok = strings.Contains(strings.ToLower(v.sku), s) || strings.Contains(strings.ToLower(v.product.title), s)
		default:
			ok = true
		}
		if ok == t.neg {
			return false
		}
	}
	return true
}

func (f *searchFilter) matchFO(fo *fulfillmentOrder) bool {
	for _, t := range f.terms {
		var ok bool
		switch t.field {
		case "status":
			ok = strings.EqualFold(fo.status, t.value)
		case "request_status":
			ok = strings.EqualFold(fo.requestStatus, t.value)
		case "assigned_location_id":
			ok = intTerm(t, fo.loc.id)
		case "updated_at":
			ok = timeTerm(t, fo.updatedAt)
		default:
			ok = true
		}
		if ok == t.neg {
			return false
		}
	}
	return true
}

// ordersConnection serves QueryRoot.orders.
func (x *execCtx) ordersConnection(a map[string]any) (any, error) {
	f, err := parseSearch(argStr(a, "query"))
	if err != nil {
		return nil, err
	}
	key := func(o *order) int64 { return o.id }
	switch argStr(a, "sortKey") {
	case "UPDATED_AT":
		key = func(o *order) int64 { return o.updatedAt.UnixNano() }
	case "CREATED_AT":
		key = func(o *order) int64 { return o.createdAt.UnixNano() }
	case "PROCESSED_AT":
		key = func(o *order) int64 { return o.processedAt.UnixNano() }
	case "ORDER_NUMBER":
		key = func(o *order) int64 { return int64(o.number) }
	}
	items := make([]pageItem, 0, len(x.st.orders))
	for _, o := range x.st.orders {
		if f.matchOrder(o) {
			items = append(items, pageItem{v: key(o), id: o.id, node: o})
		}
	}
	sortItems(items)
	return paginate(items, a)
}
