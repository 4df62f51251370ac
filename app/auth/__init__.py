"""Single sign-on, Redis sessions, tokens and the gateway that checks every request.

Endpoints (public unless noted):

- ``GET  /auth/login``                 redirect to the group IdP (state, nonce, PKCE S256 kept in Redis);
                                       ``?response=json`` for the mobile app, ``?return_to=/path`` for browsers
- ``GET  /auth/callback``              the IdP's redirect back: validates everything, creates the session;
                                       browsers get HttpOnly cookies + a redirect, the app gets JSON tokens
- ``POST /auth/token/refresh``         rotate the refresh token (JSON body or the refresh cookie + CSRF)
- ``POST /auth/logout``                (signed in) end the session; answers the IdP's end-session URL
- ``POST /auth/backchannel-logout``    the IdP's OIDC back-channel ``logout_token``
- ``GET  /.well-known/jwks.json``      the backend's public signing keys (current + previous)
- ``GET  /auth/me``                    (signed in) profile, roles, scopes, locale
- ``GET  /auth/sessions``              (user) my live sessions; ``DELETE /auth/sessions/{id}`` revokes one
- ``GET|DELETE /admin/users/{sub}/sessions``  (admin) a user's sessions; end them all, everywhere

Other features use :mod:`app.auth.guards` (``requires_login``, ``requires_roles``, ``requires_scopes``)
and :func:`app.auth.principal.current_principal`; a route is public only with ``opt={"public": True}``.
"""
