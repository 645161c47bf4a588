#!/bin/sh
# certbot deploy hook for Postroom (docs/operations.md, "TLS certificates").
#
#   certbot certonly --standalone -d mail.example.org --deploy-hook /etc/postroom/certbot-deploy-hook.sh
#   (or copy it to /etc/letsencrypt/renewal-hooks/deploy/ to run after every renewal)
#
# certbot runs it as root after a certificate was issued or renewed, with RENEWED_LINEAGE (the
# live/ folder of the certificate) and RENEWED_DOMAINS set. It copies key and chain to where the
# server reads them — readable by the postroom group only, since /etc/letsencrypt is root's — and
# asks the running server to reload them: open connections stay, new ones get the new certificate.
#
# Settings (environment, with these defaults):
#   POSTROOM_DOMAIN   mail.example.org          the certificate's name (others are ignored)
#   POSTROOM_TLS_DIR  /etc/postroom/tls         where tlsKey/tlsCert of the config point
#   POSTROOM_GROUP    postroom                  the group the server runs as
#   POSTROOM_RELOAD   systemctl reload postroom the reload (e.g. "postroom reload --config /etc/postroom/postroom.json")
set -eu

domain="${POSTROOM_DOMAIN:-mail.example.org}"
target="${POSTROOM_TLS_DIR:-/etc/postroom/tls}"
group="${POSTROOM_GROUP:-postroom}"
reload="${POSTROOM_RELOAD:-systemctl reload postroom}"

: "${RENEWED_LINEAGE:?run by certbot as a deploy hook (RENEWED_LINEAGE is not set)}"
case " ${RENEWED_DOMAINS:-} " in
  *" $domain "*) ;;
  *) exit 0 ;; # another certificate of this machine
esac

install -d -m 0750 -g "$group" "$target"
# New files beside the old, then renamed: the server never reads half a key.
install -m 0640 -g "$group" "$RENEWED_LINEAGE/privkey.pem" "$target/key.pem.new"
install -m 0644 -g "$group" "$RENEWED_LINEAGE/fullchain.pem" "$target/cert.pem.new"
mv -f "$target/key.pem.new" "$target/key.pem"
mv -f "$target/cert.pem.new" "$target/cert.pem"

$reload
echo "postroom: installed the renewed certificate for $domain and reloaded the server"
