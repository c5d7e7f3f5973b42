"""A small dental-clinic FAQ in Romanian and English, the same four questions in each."""

from __future__ import annotations

from simptu.runtime.core.knowledge import EntrySpec

CLINIC_FAQ = [
    EntrySpec(locale="ro", question="Care este programul clinicii?",
              answer="Suntem deschiși de luni până vineri între 9:00 și 20:00, sâmbăta între "
                     "9:00 și 13:00."),
    EntrySpec(locale="ro", question="Cât costă o detartrare?",
              answer="Detartrarea cu periaj profesional costă 250 de lei."),
    EntrySpec(locale="ro", question="Aveți parcare?",
              answer="Da, parcarea din curtea clinicii este gratuită pentru pacienți."),
    EntrySpec(locale="ro", question="Cum anulez o programare?",
              answer="Anulați cu cel puțin 24 de ore înainte, telefonic sau din chat, fără "
                     "nicio taxă."),
    EntrySpec(locale="en", question="What are your opening hours?",
              answer="We are open Monday to Friday 9:00-20:00 and Saturday 9:00-13:00."),
    EntrySpec(locale="en", question="How much does a cleaning cost?",
              answer="Scaling and polishing costs 250 RON."),
    EntrySpec(locale="en", question="Is there parking?",
              answer="Yes, parking in the clinic's courtyard is free for patients."),
    EntrySpec(locale="en", question="How do I cancel an appointment?",
              answer="Cancel at least 24 hours ahead by phone or in the chat, free of charge."),
]
