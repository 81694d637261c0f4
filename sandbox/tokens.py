"""RS256 JWTs as the identity platform issues them, and their verification by the APIs."""
from __future__ import annotations

import base64
import json
import random
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ACCESS_TOKEN_SECONDS = 3600  # plus up to 10 minutes, as Entra spreads expiries


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class TokenError(Exception):
    """A bearer token an API must refuse; the message says why, as Azure's APIs do."""


class TokenIssuer:
    def __init__(self, key: rsa.RSAPrivateKey, key_id: str, login_base: str, clock,
                 certificate: bytes | None = None) -> None:
        self.key = key
        self.public_key = key.public_key()
        self.key_id = key_id
        self.certificate = certificate  # DER of the signing key's certificate (the JWKS x5c)
        self.login_base = login_base
        self.clock = clock

    def issuer(self, tenant_id: str) -> str:
        return f"{self.login_base}/{tenant_id}/v2.0"

    @staticmethod
    def v1_issuer(tenant_id: str) -> str:
        return f"https://sts.windows.net/{tenant_id}/"

    def jwks(self, extra: dict[str, str] | None = None) -> dict[str, Any]:
        """The signing keys as the identity platform publishes them: kid = x5t (the certificate's
        SHA-1 thumbprint), the modulus and exponent, the certificate chain (x5c), and `extra`
        fields (the v2.0 keys name their issuer and cloud instance)."""
        numbers = self.public_key.public_numbers()
        key: dict[str, Any] = {"kty": "RSA", "use": "sig", "kid": self.key_id, "x5t": self.key_id,
                               "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}
        if self.certificate is not None:
            key["x5c"] = [base64.b64encode(self.certificate).decode()]
        key.update(extra or {})
        return {"keys": [key]}

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.key_id, "typ": "JWT"})

    def access_token(self, *, tenant_id: str, audience: str, client_id: str, subject: dict[str, Any],
                     scopes: list[str] | None = None, roles: list[str] | None = None,
                     mfa: bool = False, home_tenant_id: str | None = None,
                     wids: list[str] | None = None) -> tuple[str, int, str]:
        now = int(self.clock())
        lifetime = ACCESS_TOKEN_SECONDS + random.randint(0, 600)
        jti = uuid.uuid4().hex
        # Graph, Partner Center, Resource Manager and Key Vault take v1.0 access tokens (their
        # registrations accept version 1), whatever endpoint issued them: the v1 issuer
        # sts.windows.net, ver 1.0, appid and appidacr rather than azp and azpacr.
        claims: dict[str, Any] = {
            "aud": audience, "iss": self.v1_issuer(tenant_id), "iat": now, "nbf": now, "exp": now + lifetime,
            "tid": tenant_id, "oid": subject["id"], "sub": subject["id"], "appid": client_id, "appidacr": "1",
            "ver": "1.0", "uti": jti,
        }
        if scopes is not None:  # delegated (app + user)
            claims["scp"] = " ".join(scopes)
            claims["upn"] = subject.get("userPrincipalName")
            claims["unique_name"] = subject.get("userPrincipalName")
            claims["name"] = subject.get("displayName")
            claims["amr"] = ["pwd", "mfa"] if mfa else ["pwd"]
            claims["idtyp"] = "user"
            if home_tenant_id and home_tenant_id != tenant_id:
                claims["idp"] = self.v1_issuer(home_tenant_id)
            if wids is not None:  # the directory roles the user holds in this tenant
                claims["wids"] = wids
        else:
            claims["roles"] = roles or []
            claims["idtyp"] = "app"
        return self._sign(claims), lifetime, jti

    def id_token(self, *, tenant_id: str, client_id: str, user: dict[str, Any], nonce: str | None) -> str:
        now = int(self.clock())
        claims = {
            "aud": client_id, "iss": self.issuer(tenant_id), "iat": now, "nbf": now, "exp": now + 3600,
            "sub": user["id"], "oid": user["id"], "tid": tenant_id, "ver": "2.0",
            "preferred_username": user.get("userPrincipalName"), "name": user.get("displayName"),
        }
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims)

    def verify(self, token: str, audiences: list[str]) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self.public_key, algorithms=["RS256"], audience=audiences,
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
        except jwt.InvalidAudienceError as exc:
            raise TokenError("Invalid audience.") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("Signature is invalid.") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("IDX14100: JWT is not well formed.") from exc
        if claims.get("exp", 0) <= self.clock():
            raise TokenError("Lifetime validation failed, the token is expired.")
        return claims


def client_info(user_id: str, home_tenant_id: str) -> str:
    return b64url(json.dumps({"uid": user_id, "utid": home_tenant_id}).encode())
