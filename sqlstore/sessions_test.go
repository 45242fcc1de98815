package sqlstore_test

import (
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestSessions checks that Sessions lists a subject's live sessions, with
// what they were started and last rotated with, and leaves out those
// revoked, reused, expired or denied (as a session, or by a denial of the
// subject after their login), and those of other subjects.
func TestSessions(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, _ := newStore(t, b)
		ctx := t.Context()
		subject := "subject-" + rand.Text()
		start := func(authTime time.Time) (testSession, string) {
			sess, id := newTestSession(), rand.Text()
			sess.subject, sess.authTime = subject, authTime
			rotate(t, s, sess.rotation("", id), passauth.RotateOK, "start")
			return sess, id
		}
		now := time.Now()

		fresh, _ := start(now)
		rotated, id := start(now)
		r := rotated.rotation(id, rand.Text())
		r.Now, r.Expires = now.Add(time.Minute), now.Add(30*time.Minute)
		rotate(t, s, r, passauth.RotateOK, "rotate")

		revoked, _ := start(now)
		require.NoError(t, s.RevokeSession(ctx, passauth.Denial{Subject: subject, Session: revoked.family, At: now, Expires: now.Add(time.Hour)}))
		reused, id := start(now)
		rotate(t, s, reused.rotation(id, rand.Text()), passauth.RotateOK, "rotate")
		rotate(t, s, reused.rotation(id, rand.Text()), passauth.RotateReused, "reuse")
		expired := newTestSession()
		expired.subject = subject
		er := expired.rotation("", rand.Text())
		er.Expires, er.KeepUntil = now.Add(-time.Second), now.Add(-time.Second)
		rotate(t, s, er, passauth.RotateOK, "start an expired session")
		denied, _ := start(now)
		require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, Session: denied.family, At: now, Expires: now.Add(time.Hour)}))
		start(now.Add(-2 * time.Hour)) // logged in before the subject's denial
		require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, At: now.Add(-time.Hour), Expires: now.Add(time.Hour)}))
		other := newTestSession()
		rotate(t, s, other.rotation("", rand.Text()), passauth.RotateOK, "another subject's session")

		got, err := s.Sessions(ctx, subject)
		require.NoError(t, err)
		ids := make([]string, len(got))
		for i, info := range got {
			ids[i] = info.ID
		}
		require.ElementsMatch(t, []string{fresh.family, rotated.family}, ids, "live sessions")

		info := got[slices.IndexFunc(got, func(i passauth.SessionInfo) bool { return i.ID == rotated.family })]
		assert.Equal(t, rotated.client, info.ClientID)
		assert.True(t, info.Created.Equal(rotated.authTime), "Created %v, want the login time %v", info.Created, rotated.authTime)
		assert.True(t, info.LastUsed.Equal(r.Now), "LastUsed %v, want the rotation's time %v", info.LastUsed, r.Now)
		assert.True(t, info.Expires.Equal(r.Expires), "Expires %v, want the current token's expiry %v", info.Expires, r.Expires)

		got, err = s.Sessions(ctx, "subject-"+rand.Text())
		require.NoError(t, err)
		assert.Empty(t, got, "an unknown subject's sessions")
	})
}

// TestIssuerSessions lists and ends a user's sessions through the issuer,
// as an account page does: three logins listed, the others than the
// current one revoked, and another user's session out of reach.
func TestIssuerSessions(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, _ := newStore(t, b)
		iss := newIssuer(t, s)
		ctx := t.Context()
		user := "user-" + rand.Text()
		var sids []string
		for range 3 {
			p, err := iss.IssuePair(ctx, user)
			require.NoError(t, err)
			_, sid := idsOf(t, p.RefreshToken)
			sids = append(sids, sid)
		}
		other, err := iss.IssuePair(ctx, "user-"+rand.Text())
		require.NoError(t, err)
		_, otherSID := idsOf(t, other.RefreshToken)

		list, err := iss.Sessions(ctx, user)
		require.NoError(t, err)
		got := make([]string, len(list))
		for i, info := range list {
			got[i] = info.ID
		}
		assert.ElementsMatch(t, sids, got, "the user's sessions")

		require.ErrorIs(t, iss.RevokeSession(ctx, user, otherSID), passauth.ErrNoSession, "another user's session")
		require.NoError(t, iss.RevokeOtherSessions(ctx, user, sids[0]))
		list, err = iss.Sessions(ctx, user)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, sids[0], list[0].ID, "the session kept")
		_, err = iss.Refresh(ctx, other.RefreshToken)
		require.NoError(t, err, "the other user's session")
	})
}
