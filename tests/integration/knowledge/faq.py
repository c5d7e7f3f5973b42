"""A small dental-clinic FAQ in Romanian and English, the same four questions in each."""

from __future__ import annotations

from simptu.runtime.core.knowledge import KnowledgeEntrySpec


def entry(locale: str, question: str, answer: str) -> KnowledgeEntrySpec:
    return KnowledgeEntrySpec.model_validate(
        {"locale": locale, "question": question, "answer": answer})


CLINIC_FAQ = [
    entry("ro", "Care este programul clinicii?",
          "Suntem deschiși de luni până vineri între 9:00 și 20:00, sâmbăta între 9:00 și "
          "13:00."),
    entry("ro", "Cât costă o detartrare?", "Detartrarea cu periaj profesional costă 250 de lei."),
    entry("ro", "Aveți parcare?",
          "Da, parcarea din curtea clinicii este gratuită pentru pacienți."),
    entry("ro", "Cum anulez o programare?",
          "Anulați cu cel puțin 24 de ore înainte, telefonic sau din chat, fără nicio taxă."),
    entry("en", "What are your opening hours?",
          "We are open Monday to Friday 9:00-20:00 and Saturday 9:00-13:00."),
    entry("en", "How much does a cleaning cost?", "Scaling and polishing costs 250 RON."),
    entry("en", "Is there parking?",
          "Yes, parking in the clinic's courtyard is free for patients."),
    entry("en", "How do I cancel an appointment?",
          "Cancel at least 24 hours ahead by phone or in the chat, free of charge."),
]
