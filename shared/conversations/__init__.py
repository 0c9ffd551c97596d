"""Every chat's transcript and its AI pause, kept on this machine (DATA_DIR/conversations-<company>.sqlite).

The gateway writes what crosses WhatsApp (a client's message, a reply, the salon's own message);
the worker adds which batch answered what and the commands it ran; the api and the gateway's page
read it and switch a chat's AI off and on.
"""

from shared.conversations.models import Author, ChatSummary, TranscriptEntry, Turn
from shared.conversations.store import ConversationStore, conversations_path

__all__ = ["Author", "ChatSummary", "ConversationStore", "TranscriptEntry", "Turn", "conversations_path"]
