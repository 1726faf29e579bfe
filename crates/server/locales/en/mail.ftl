# E-mails to notifiers (crates/server/src/mail.rs). Plain text; links and numbers are added by the code.
mail-received-subject = We received your report
mail-received-thanks = Thank you for your report. We have received it and will review it.
mail-received-number = Your report number: { $id }
mail-received-follow = See its status and our decision here:
mail-received-keep = Keep this link private: anyone who has it can view your report.
mail-help = If you are in danger, call 112. Help with online image abuse: Helpwanted (helpwanted.nl).
mail-warned-subject = A warning about your reports
mail-warned-reason = Several of your reports were manifestly unfounded: { $reason }.
mail-warned-next = If this continues, we will stop processing your reports for a period (DSA Art. 23(2)).
mail-suspended-subject = Your reports are suspended
mail-suspended-until = After an earlier warning we will not process your reports until { $until } (DSA Art. 23(2)).
mail-suspended-reason = Reason: { $reason }.
