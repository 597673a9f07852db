-- A refused command has one name, "command_refused", for the message kind, the timeline event
-- and the flag (issue 9). Earlier versions also wrote "refused_command" for the flag, which
-- every reader then had to know; rename those rows so the code knows one spelling only.
UPDATE flags SET reason = 'command_refused' WHERE reason = 'refused_command';
UPDATE messages SET kind = 'command_refused' WHERE kind = 'refused_command';
UPDATE complaint_events SET kind = 'command_refused' WHERE kind = 'refused_command';
