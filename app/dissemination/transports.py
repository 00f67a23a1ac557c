"""The Facebook page post as an outbox transport: the office's page, its token decrypted only here.

Without a page configured for the office (the embedded default), the post is kept in the
outbox viewer like any message that cannot leave, so a demo shows what would be published.
"""

from __future__ import annotations

from app.outbox.delivery import PermanentError, Sent
from app.outbox.models import OutboxMessage


class FacebookPageTransport:
    name = "facebook-page"

    def send(self, msg: OutboxMessage) -> Sent:
        from app.channels.facebook import post_to_page
        from app.dissemination.services import facebook_page
        from app.secrets import decrypt_text

        page = facebook_page(msg.office_id) if msg.office_id is not None else None
        if page is None:
            return Sent("outbox-viewer", f"<outbox-{msg.id}@puente.local>")
        try:
            token = decrypt_text(page.token_encrypted)
        except Exception as exc:  # a rotated key without the old one: staff must save the token again
            raise PermanentError("El token guardado de la página no se puede leer: vuelva a guardarlo.") from exc
        link = (msg.payload or {}).get("link")
        post_id = post_to_page(page.page_id, token, msg.body_text, link if isinstance(link, str) else None)
        return Sent(self.name, post_id)
