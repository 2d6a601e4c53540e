package gateway

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/config"
)

// checkJSON refuses bodies declared as something other than JSON. A missing
// Content-Type is accepted: the Console does not document the one it sends.
// A body with a content coding (Content-Encoding other than identity) is
// refused too, with Accept-Encoding: identity (RFC 9110 §15.5.16): the gateway
// does not decompress, so a compressed body could only fail later as invalid
// JSON (or, with a coding it ignored, be read as if it were not declared),
// and a gzip bomb never expands.
func checkJSON(w http.ResponseWriter, r *http.Request) error {
	for _, v := range r.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				w.Header().Set("Accept-Encoding", "identity")
				return apierror.New(apierror.UnsupportedMediaType, "Content-Encoding is not accepted; send the JSON uncompressed")
			}
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return apierror.New(apierror.UnsupportedMediaType, "Content-Type is not a media type; send application/json")
	}
	if mt == "application/json" || (len(mt) > 5 && mt[len(mt)-5:] == "+json") {
		return nil
	}
	return apierror.New(apierror.UnsupportedMediaType, "Content-Type "+mt+" is not accepted; send application/json")
}

// readBody reads at most limit bytes. A larger body is body_too_large; a body
// that does not arrive within the server's read timeout is request_timeout.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, apierror.New(apierror.BodyTooLarge, "the body is larger than the limit of "+config.ByteSize(limit).String())
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// ReadFrom wants bytes.MinRead of room before each read, the one
		// that finds the end included: with exactly the body's length it
		// copied the whole body into a buffer twice as big to read nothing.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		return buf.Bytes(), nil
	}
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return nil, apierror.New(apierror.BodyTooLarge, "the body is larger than the limit of "+config.ByteSize(limit).String())
	case errors.As(err, &netErr) && netErr.Timeout():
		return nil, apierror.New(apierror.RequestTimeout, "the body did not arrive in time")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, apierror.New(apierror.InvalidJSON, "the body ended before its declared length")
	default:
		// Malformed chunked framing (or a connection broken mid-body): the
		// sender's fault, not a timeout, and resending it as is cannot work.
		return nil, apierror.Wrap(apierror.InvalidJSON, "the body could not be read: malformed chunked encoding or a broken connection", err)
	}
}

// singleHeader returns the one value of a header; several values are refused
// because they make authentication ambiguous.
func singleHeader(r *http.Request, name string) (string, error) {
	vs := r.Header.Values(name)
	switch len(vs) {
	case 0:
		return "", apierror.New(apierror.AuthMissing, "the "+name+" header is missing")
	case 1:
		if vs[0] == "" {
			return "", apierror.New(apierror.AuthMissing, "the "+name+" header is empty")
		}
		return vs[0], nil
	default:
		return "", apierror.New(apierror.AuthInvalid, "the "+name+" header is given more than once")
	}
}

// authorizeOkta checks the Okta hook's static header against the secrets.
func (g *Gateway) authorizeOkta(r *http.Request) error {
	v, err := singleHeader(r, g.cfg.OktaAuthHeader)
	if err != nil {
		return err
	}
	if !g.cfg.OktaSecrets.Match([]byte(v)) {
		return apierror.New(apierror.AuthInvalid, "the "+g.cfg.OktaAuthHeader+" header does not match the configured secret")
	}
	return nil
}
