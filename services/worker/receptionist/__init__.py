"""The receptionist: understand a client's turn, run booking commands, reply with what the backend confirmed."""
