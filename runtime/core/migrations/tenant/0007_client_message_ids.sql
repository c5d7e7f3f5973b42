-- The id a WS client gives its message (`client_msg_id`): a message sent again after a lost
-- acknowledgement is recognised and not stored, nor sent to the agent, twice.
ALTER TABLE chat_messages ADD COLUMN client_msg_id text
    CHECK (client_msg_id IS NULL OR length(client_msg_id) BETWEEN 1 AND 100);
CREATE UNIQUE INDEX chat_messages_client_msg_id ON chat_messages (session_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
