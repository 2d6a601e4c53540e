package gateway

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/config"
)

// checkJSON refuses bodies declared as something other than JSON. A missing
// Content-Type is accepted: the Console does not document the one it sends.
func checkJSON(r *http.Request) error {
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
		buf.Grow(int(r.ContentLength))
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
		return nil, apierror.Wrap(apierror.RequestTimeout, "reading the body failed", err)
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
